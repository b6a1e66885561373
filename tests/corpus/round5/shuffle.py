# Seeded repository order per kind (seed 20261209), decided before any file was read.
import random
exec(open('cands.py').read())
excluded = set(open('excluded.txt').read().split())
rng = random.Random(20261209)
for k in ['bundle', 'execplan', 'kiro', 'noid', 'speckit', 'taskmaster', 'tid']:
    l = sorted(set(eval(k)) - excluded)
    rng.shuffle(l)
    print(k, ' '.join(l))
