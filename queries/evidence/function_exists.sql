-- name: function_exists
-- description: Whether the engine has a function of this name (the name rewriter that --pseudonymize registers).
-- param: function text  the function's name
SELECT count(*) > 0 AS present FROM duckdb_functions() WHERE function_name = $function
