import random
exec(open('cands.py').read())
rng=random.Random(20261208)
out={}
for k in ['bundle','execplan','kiro','noid','speckit','taskmaster']:
    l=sorted(set(eval(k))); rng.shuffle(l); out[k]=l
    print(k, ' '.join(l))
