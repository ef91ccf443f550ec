"""The display names of the From and To of each message in DIR, as Python's `email` reads
them with `policy.default` (which shows two encoded-words cut inside a word with a space
between them, CPython issue 128110).

usage: names.py DIR    prints {"<Message-ID>": {"from": NAME, "to": NAME}, ...}
"""
import json
import pathlib
import sys
from email import message_from_bytes, policy

out = {}
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.eml")):
    m = message_from_bytes(path.read_bytes(), policy=policy.default)
    out[m["Message-ID"].strip("<>")] = {
        "from": m["From"].addresses[0].display_name,
        "to": m["To"].addresses[0].display_name,
    }
json.dump(out, sys.stdout, ensure_ascii=False)
