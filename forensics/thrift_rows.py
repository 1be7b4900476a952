"""A HiveServer2 result read as Arrow columns, batch by batch as it arrives.

HiveServer2 (protocol V6 and later, which Spark's Thrift Server speaks) sends a result in
columns: per column a list of values and a bit set of the nulls. pyhive zips them into
one Python tuple per row, then the caller takes them apart again column by column; at a
few hundred thousand rows of twenty columns that was most of a warehouse run's client
time, with the Thrift messages themselves decoded in pure Python. Here each column of a
batch becomes one Arrow array (nulls from the bit set, no tuple per row), and the
server's messages are decoded by Thrift's C extension where it is installed
(`accelerate`: the same bytes, read faster).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

#: The Arrow type of each value list a Thrift column can hold (`TColumn`'s fields).
_KINDS = {
    "boolVal": pa.bool_(),
    "byteVal": pa.int8(),
    "i16Val": pa.int16(),
    "i32Val": pa.int32(),
    "i64Val": pa.int64(),
    "doubleVal": pa.float64(),
    "stringVal": pa.string(),
    "binaryVal": pa.binary(),
}


def fetch_results(client: Any, request: Any) -> Any:
    """The server's `TFetchResultsResp` to `request`, decoded by Thrift's C extension when
    it is installed and the transport can feed it (else by pyhive's Python decoder, which
    costs a few microseconds per value: minutes at millions of rows).

    The C decoder wants each struct's type arguments as a list `[class, spec]`, where
    pyhive's generated code (an older Thrift compiler) writes tuples: it is given a copy of
    the specs in that form (`_spec`), the classes are left as they are."""
    from thrift.Thrift import TApplicationException, TMessageType
    from thrift.transport.TTransport import CReadableTransport

    try:
        from thrift.protocol import fastbinary
    except ImportError:
        return client.FetchResults(request)
    protocol = client._iprot
    if not isinstance(protocol.trans, CReadableTransport):
        return client.FetchResults(request)
    from TCLIService.TCLIService import FetchResults_result

    client.send_FetchResults(request)
    _, kind, _ = protocol.readMessageBegin()
    if kind == TMessageType.EXCEPTION:
        error = TApplicationException()
        error.read(protocol)
        protocol.readMessageEnd()
        raise error
    result = FetchResults_result()
    fastbinary.decode_binary(result, protocol, _result_spec())
    protocol.readMessageEnd()
    if result.success is None:
        raise TApplicationException(TApplicationException.MISSING_RESULT, "FetchResults failed")
    return result.success


@functools.cache
def _result_spec() -> list:
    from TCLIService.TCLIService import FetchResults_result

    return _spec(FetchResults_result, {})


def _spec(cls: type, done: dict[type, list]) -> list:
    """`[cls, its thrift_spec]` with every struct's arguments in that list form too."""
    if cls not in done:
        done[cls] = [cls, None]
        done[cls][1] = tuple(
            None if f is None else (*f[:3], _args(f[1], f[3], done), *f[4:])
            for f in cls.thrift_spec
        )
    return done[cls]


def _args(kind: int, args: Any, done: dict[type, list]) -> Any:
    from thrift.Thrift import TType

    if kind == TType.STRUCT:
        return _spec(args[0], done)
    if kind in (TType.LIST, TType.SET):
        return (args[0], _args(args[0], args[1], done), *args[2:])
    if kind == TType.MAP:
        return (args[0], _args(args[0], args[1], done), args[2], _args(args[2], args[3], done),
                *args[4:])  # fmt: skip
    return args


def fetch_arrow(
    cursor: Any, batch_rows: int, progress: Callable[[int], None] | None = None
) -> pa.Table:
    """Every row of the cursor's finished operation as a table (no columns when the
    statement returned no result set; a column of no rows is of Arrow's null type, as
    pyhive's empty lists became); `progress` is told the rows read so far after each
    batch."""
    from pyhive.hive import _check_status
    from TCLIService import ttypes

    description = cursor.description
    if not description:
        return pa.table({})
    names = [d[0].split(".")[-1] for d in description]
    kinds = [d[1] for d in description]
    chunks: list[list[pa.Array]] = [[] for _ in names]
    total = 0
    while True:
        request = ttypes.TFetchResultsReq(
            operationHandle=cursor._operationHandle,
            orientation=ttypes.TFetchOrientation.FETCH_NEXT,
            maxRows=batch_rows,
        )
        response = fetch_results(cursor._connection.client, request)
        _check_status(response)
        columns = response.results.columns
        if not columns:  # a statement that made something (a view) answers no columns
            break
        arrays = [column_array(c, k) for c, k in zip(columns, kinds, strict=True)]
        if len(arrays[0]) == 0:
            break
        for found, array in zip(chunks, arrays, strict=True):
            found.append(array)
        total += len(arrays[0])
        if progress is not None:
            progress(total)
    return pa.table(
        {
            name: pa.chunked_array(found) if found else pa.array([], pa.null())
            for name, found in zip(names, chunks, strict=True)
        }
    )


def column_array(column: Any, type_name: str) -> pa.Array:
    """One Thrift column as an Arrow array: its values, null where its bit set says (bit
    `i % 8` of byte `i // 8`); a TIMESTAMP column's text as microsecond times and a
    DECIMAL's as decimals, as pyhive converts them."""
    found = [(getattr(column, f, None), kind) for f, kind in _KINDS.items()]
    wrapper, kind = next(((w, k) for w, k in found if w is not None), (None, None))
    if wrapper is None:
        raise ValueError(f"a result column holds no values ({type_name})")
    values = wrapper.values
    nulls = np.frombuffer(wrapper.nulls or b"", dtype=np.uint8)
    mask = None
    if nulls.any():
        bits = np.unpackbits(nulls, bitorder="little")[: len(values)].astype(bool)
        mask = np.zeros(len(values), dtype=bool)
        mask[: len(bits)] = bits
    array = pa.array(values, type=kind, mask=mask)
    if type_name == "TIMESTAMP_TYPE" and pa.types.is_string(kind):
        return array.cast(pa.timestamp("us"))
    if type_name == "DECIMAL_TYPE" and pa.types.is_string(kind):
        from decimal import Decimal

        return pa.array([None if v is None else Decimal(v) for v in array.to_pylist()])
    return array
