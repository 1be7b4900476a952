-- name: pseudonymize
-- description: Replace every principal (short and raw form) by its pseudonym in the tables evidence is written from.
UPDATE classified_all SET principal = p.pseudonym FROM pseudonyms p WHERE classified_all.principal = p.name;
UPDATE classified_all SET principal_raw = p.pseudonym FROM pseudonyms p WHERE classified_all.principal_raw = p.name;
UPDATE classified_all SET via_principal = p.pseudonym FROM pseudonyms p WHERE classified_all.via_principal = p.name;
UPDATE copy_edges SET principal = p.pseudonym FROM pseudonyms p WHERE copy_edges.principal = p.name;
UPDATE people SET principal = p.pseudonym FROM pseudonyms p WHERE people.principal = p.name;
