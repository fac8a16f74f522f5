"""clickhouse-connect, ClickHouse's official Python client, against the local front
with its default settings (compression on: lz4 request bodies, Accept-Encoding with
every method it has), then with lz4 asked for alone, and one raw request whose lz4
response body Python's own lz4.frame decodes. Prints one JSON object for the test.

    CLICKHOUSE_URL=http://127.0.0.1:58123 TABLE=t python clickhouse-connect.py
"""

import json
import os
import sys
from urllib.parse import urlparse

import clickhouse_connect
import lz4.frame
import urllib3

url = urlparse(os.environ["CLICKHOUSE_URL"])
table = os.environ["TABLE"]
# clickhouse-connect inserts in Native. The embedded engine (chdb 26.7) ends INSERT data
# at the bytes "\n\n" and runs the rest as SQL, so the front refuses such data (code 48);
# the rows keep them out: ids below 0x0A0A = 2570, one tag per row (Array offsets count too).
rows = int(os.environ.get("ROWS", "2500"))
connect = dict(host=url.hostname, port=url.port, username=url.username or "default", password=url.password or "")

client = clickhouse_connect.get_client(**connect)
out = {"write_compression": client.write_compression}
client.command(f"CREATE TABLE {table} (id UInt32, name String, tags Array(String)) ENGINE = MergeTree ORDER BY id")
# Long enough names that the lz4 body spans several linked 64 KiB blocks.
data = [[i, f"name {i} it's \"quoted\" " + "x" * 100, [f"t{i % 7}"]] for i in range(rows)]
summary = client.insert(table, data, column_names=["id", "name", "tags"])
out["written_rows"] = summary.written_rows
result = client.query(f"SELECT id, name, tags FROM {table} ORDER BY id")
out["default"] = {"rows": len(result.result_rows), "first": list(result.result_rows[0]), "last": list(result.result_rows[-1])}

lz4_client = clickhouse_connect.get_client(**connect, compress="lz4")
out["lz4_write_compression"] = lz4_client.write_compression
lz4_client.insert(table, [[rows + 1, "lz4 only", []]], column_names=["id", "name", "tags"])
out["lz4"] = {
    "count": lz4_client.query(f"SELECT count() FROM {table}").result_rows[0][0],
    "sum": lz4_client.query(f"SELECT sum(id) FROM {table}").result_rows[0][0],
}

http = urllib3.PoolManager()
response = http.request(
    "POST",
    f"{url.scheme}://{url.netloc}/?enable_http_compression=1",
    body=f"SELECT id, name FROM {table} ORDER BY id FORMAT TSV".encode(),
    headers={"Accept-Encoding": "lz4"},
    decode_content=False,
)
body = lz4.frame.decompress(response.data)
out["raw"] = {
    "status": response.status,
    "content_encoding": response.headers.get("Content-Encoding"),
    "compressed_bytes": len(response.data),
    "lines": body.count(b"\n"),
    "first_line": body.split(b"\n", 1)[0].decode(),
}
client.command(f"DROP TABLE {table}")
json.dump(out, sys.stdout)
