-- name: pseudonymize
-- description: Replace every principal (short and raw form) by its pseudonym in the tables evidence is written from.
-- `classified_all` is a view over exposed_access and copy_reads_kept (reconstruct/classified):
-- those are changed, and the on-behalf services too, which the view's classification compares
-- with each access's principal (the same names before and after: the same classes).
UPDATE exposed_access SET principal = p.pseudonym FROM pseudonyms p WHERE exposed_access.principal = p.name;
UPDATE exposed_access SET principal_raw = p.pseudonym FROM pseudonyms p WHERE exposed_access.principal_raw = p.name;
UPDATE exposed_access SET via_principal = p.pseudonym FROM pseudonyms p WHERE exposed_access.via_principal = p.name;
UPDATE copy_reads_kept SET principal = p.pseudonym FROM pseudonyms p WHERE copy_reads_kept.principal = p.name;
UPDATE copy_reads_kept SET principal_raw = p.pseudonym FROM pseudonyms p WHERE copy_reads_kept.principal_raw = p.name;
UPDATE copy_reads_kept SET via_principal = p.pseudonym FROM pseudonyms p WHERE copy_reads_kept.via_principal = p.name;
UPDATE on_behalf SET principal = p.pseudonym FROM pseudonyms p WHERE on_behalf.principal = p.name;
UPDATE copy_edges SET principal = p.pseudonym FROM pseudonyms p WHERE copy_edges.principal = p.name;
UPDATE people SET principal = p.pseudonym FROM pseudonyms p WHERE people.principal = p.name;
