# Validates the entries of one round without planexec: plans.toml parses; each entry of the
# round is held out, has the required fields, names a repository that no other round uses (nor,
# with an excluded.txt in the round's folder, one fetched before the round), and its sha256
# matches the file (or ticket folder) materialised under FILES/<sha256>/<path>.
#     python3 check.py [FILES] [--round N]        (default /work/corpus-files, round 3)
import hashlib, os, sys, tomllib

argv = sys.argv[1:]
ROUND = 3
if '--round' in argv:
    i = argv.index('--round')
    ROUND = int(argv[i + 1])
    del argv[i:i + 2]
FILES = argv[0] if argv else '/work/corpus-files'
HERE = os.path.dirname(os.path.abspath(__file__))
plans = tomllib.load(open(os.path.join(HERE, '..', 'plans.toml'), 'rb'))['plan']
r3 = [p for p in plans if p.get('round') == ROUND]
earlier = {p['repo'] for p in plans if p.get('round', 1) != ROUND}
excl = os.path.join(HERE, '..', f'round{ROUND}', 'excluded.txt')
if ROUND != 3 and os.path.exists(excl):
    earlier |= set(open(excl).read().split())
bad = []
for p in r3:
    e = p.get('expected', {})
    for k in ('repo', 'path', 'commit', 'sha256', 'dialect', 'notes'):
        if k not in p:
            bad.append(f"{p['id']}: no {k}")
    if p.get('held_out') is not True:
        bad.append(f"{p['id']}: not held out")
    if p['repo'] in earlier:
        bad.append(f"{p['id']}: repository used by another round or fetched before this one")
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
print(f'round {ROUND}: {len(r3)} plans from {len({p["repo"] for p in r3})} repositories; problems: {len(bad)}')
for b in bad:
    print('  ' + b)
sys.exit(1 if bad else 0)
