# The seeded pick every pass used (20261209): per kind in sorted order, repositories in the
# seeded order of order.txt, each repository's sorted candidate list shuffled with a fresh
# random.Random(20261209), the first CAP kept, until TARGET. Prints and writes the picks.
import json, random


def pick(files, cap, target, out):
    res = json.load(open(files))
    order = {l.split()[0]: l.split()[1:] for l in open('order.txt')}
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
    json.dump(picks, open(out, 'w'), indent=0)
