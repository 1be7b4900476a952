-- name: handler_rows
-- description: How many agent rows of handlers that can show a `seq_num` jump (`coverage_handlers`) there are: none means the parsed events need not be read for them.
SELECT count(*) AS agents FROM coverage_handlers
