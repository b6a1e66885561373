# Pass 7 pick: seeded.py's procedure (fresh Random(20261209), order.txt order) over files7.json
# for Taskmaster files (cap 1 per repository, as in pass 1), skipping repositories passes 1-6
# picked from.
import json, random
from collections import Counter

prev = sum((json.load(open(f'picks{n}.json')) for n in ('', 2, 3, 4, 5, 6)), [])
used, seen = Counter(p[1] for p in prev), {(p[1], p[3]) for p in prev}
res = json.load(open('files7.json'))
order = {l.split()[0]: l.split()[1:] for l in open('order.txt')}
rng = random.Random(20261209)
picks, target = [], {'taskmaster': 1}
for k in sorted(target):
    n = 0
    for r in order[k]:
        key = f'{k} {r}'
        if key not in res or not res[key][1] or n >= target[k] or used[r] >= 1:
            continue
        head, c = res[key]
        c = sorted(x for x in c if (r, x) not in seen)
        rng.shuffle(c)
        for p in c[:min(1 - used[r], target[k] - n)]:
            picks.append((k, r, head, p))
            used[r] += 1
            n += 1
for p in picks:
    print(*p)
json.dump(picks, open('picks7.json', 'w'), indent=0)
