"""Why the outbox's send phase is slow on SQLite: every state change rewrites the row.

The outbox keeps each message's raw bytes (about 19 KB) in its own row, and a worker
changes that row twice per message (claimed: `sending`; then `sent`). SQLite rewrites the
whole record on UPDATE, overflow pages included, so each change writes the 19 KB again.
This script times claiming and marking 10,061 rows 16 at a time, as the worker does, with
the raw bytes in the row and with them in a side table keyed by the row's id.

usage: python3 bench/sqlite_blob_updates.py     (bench/README.md, "Invitations delivered")
"""
import sqlite3, os, time
def run(blob_in_row):
    path='/tmp/blobtest.db'
    for s in ['','-wal','-shm']:
        try: os.remove(path+s)
        except FileNotFoundError: pass
    c=sqlite3.connect(path, isolation_level=None)
    c.execute('pragma journal_mode=wal'); c.execute('pragma synchronous=normal')
    c.execute('create table outbox(id integer primary key, state int, lease int, last_error text, raw blob)')
    c.execute('create table body(id integer primary key, raw blob)')
    raw=os.urandom(14000).hex()[:18873].encode()
    c.execute('begin')
    for i in range(10061):
        if blob_in_row:
            c.execute('insert into outbox(id,state,raw) values(?,0,?)',(i,raw))
        else:
            c.execute('insert into outbox(id,state,raw) values(?,0,?)',(i,b''))
            c.execute('insert into body(id,raw) values(?,?)',(i,raw))
    c.execute('commit')
    t=time.time()
    # claim 16 at a time (state->1 returning raw), then mark sent in batches of 16
    for start in range(0,10061,16):
        ids=list(range(start,min(start+16,10061)))
        q=','.join('?'*len(ids))
        c.execute('begin immediate')
        if blob_in_row:
            rows=c.execute(f'update outbox set state=1, lease=1 where id in ({q}) returning raw', ids).fetchall()
        else:
            c.execute(f'update outbox set state=1, lease=1 where id in ({q})', ids)
            rows=c.execute(f'select raw from body where id in ({q})', ids).fetchall()
        c.execute('commit')
        c.execute('begin immediate')
        c.execute(f'update outbox set state=2, lease=null where id in ({q})', ids)
        c.execute('commit')
    return time.time()-t
print('blob in the row     %.2f s' % run(True))
print('blob in a side table %.2f s' % run(False))
