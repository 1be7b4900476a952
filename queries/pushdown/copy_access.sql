-- name: copy_access
-- description: The accesses of a round's new copy targets (`copy_targets`, sent from the embedded engine), selected in the warehouse by reconstruct/access's `access_to` and fetched.
SELECT * FROM access_to('copy_targets')
