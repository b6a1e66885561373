# Validates the round-3 entries without planexec: plans.toml parses; each round-3 entry is
# held out, has the required fields, names a repository that no earlier round uses, and its
# sha256 matches the file (or ticket folder) materialised under FILES/<sha256>/<path>.
#     python3 check.py [FILES]        (default /work/corpus-files)
import hashlib, os, sys, tomllib

FILES = sys.argv[1] if len(sys.argv) > 1 else '/work/corpus-files'
plans = tomllib.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'plans.toml'), 'rb'))['plan']
r3 = [p for p in plans if p.get('round') == 3]
earlier = {p['repo'] for p in plans if p.get('round', 1) != 3}
bad = []
for p in r3:
    e = p.get('expected', {})
    for k in ('repo', 'path', 'commit', 'sha256', 'dialect', 'notes'):
        if k not in p:
            bad.append(f"{p['id']}: no {k}")
    if p.get('held_out') is not True:
        bad.append(f"{p['id']}: not held out")
    if p['repo'] in earlier:
        bad.append(f"{p['id']}: repository used by an earlier round")
    if not {'tasks', 'done', 'exit'} <= set(e):
        bad.append(f"{p['id']}: expected needs tasks, done, exit")
    if 'ids' in e and len(e['ids']) != e['tasks']:
        bad.append(f"{p['id']}: {len(e['ids'])} ids for {e['tasks']} tasks")
    target = os.path.join(FILES, p['sha256'], p['path'])
    if os.path.isdir(target):
        h = hashlib.sha256()
        base = os.path.join(FILES, p['sha256'])
        for rel in sorted(os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(target) for f in fs):
            h.update(rel.encode() + b'\0' + open(os.path.join(base, rel), 'rb').read())
        got = h.hexdigest()
    elif os.path.isfile(target):
        got = hashlib.sha256(open(target, 'rb').read()).hexdigest()
    else:
        got = 'not materialised'
    if got != p['sha256']:
        bad.append(f"{p['id']}: sha256 {got}")
print(f'round 3: {len(r3)} plans from {len({p["repo"] for p in r3})} repositories; problems: {len(bad)}')
for b in bad:
    print('  ' + b)
sys.exit(1 if bad else 0)
