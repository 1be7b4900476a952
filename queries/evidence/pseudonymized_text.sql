-- name: pseudonymized_text
-- description: One text with the principals' names in it replaced by their pseudonyms (the function reconstruct.pseudonymize registers), for the manifest's strings.
-- param: text text  the text
SELECT pseudonymize_names($text) AS text
