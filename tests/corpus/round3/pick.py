# Seeded pick (20261209): per kind in sorted order, repositories in the seeded order of
# order.txt, each repository's sorted candidate list shuffled, the first CAP kept, until TARGET.
import json, random
res = json.load(open('files1.json'))
order = {l.split()[0]: l.split()[1:] for l in open('order.txt')}
cap = {'bundle': 1, 'execplan': 2, 'kiro': 2, 'noid': 2, 'speckit': 2, 'taskmaster': 1}
target = {'bundle': 2, 'execplan': 9, 'kiro': 9, 'noid': 11, 'speckit': 9, 'taskmaster': 8}
rng = random.Random(20261209)
picks = []
for k in sorted(cap):
    n = 0
    for r in order[k]:
        key = f'{k} {r}'
        if key not in res or not res[key][1] or n >= target[k]:
            continue
        head, c = res[key]
        c = sorted(c)
        rng.shuffle(c)
        for p in c[:min(cap[k], target[k] - n)]:
            picks.append((k, r, head, p))
            n += 1
for p in picks:
    print(*p)
json.dump(picks, open('picks.json', 'w'), indent=0)
