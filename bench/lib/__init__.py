"""What the benches share, so that each bench script is only its scenario.

  output    timestamped progress lines, aligned text tables
  stats     percentiles, calls timed taking turns, endpoint-vs-raw-SQL rows
  proc      the process table and the machine's busy time, from /proc
  cpu       CPU seconds per phase: this process, a server, PostgreSQL, the rest
  memory    RSS and its high-water mark, of this process or a process tree
  ports     free loopback ports
  server    the app (or another ASGI app) under uvicorn in a subprocess
  database  throwaway databases (SQLite file or PostgreSQL), migrate, demo, VACUUM
  capture   the SQL a request sends, recorded and replayed through psycopg alone
  explain   EXPLAIN (ANALYZE, BUFFERS) of captured statements
  load      a concurrent HTTP/1.1 load client and a login for a token

No module imports the app at import time: a bench sets its environment (DATABASE_URL,
BIHUAN_ENV, SECRET_KEY) first, and the app's settings are read once.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
