import json, random
res=json.load(open('files_all.json')); old=set(json.load(open('files1.json')))
res={k:v for k,v in res.items() if k not in old}
# Kiro: first four repositories with specs in the seeded repository order (order.txt)
order=open('order.txt').read().split('\n')
kord=[l for l in order if l.startswith('kiro ')][0].split()[1:]
kiro_ok=[r for r in kord if f'kiro {r}' in res and res[f'kiro {r}'][1]][:4]
two={'execplan':{'Maizestream818/pyme-financing-platform'}}
rng=random.Random(20261208)
picks=[]
for key in sorted(res):
  head,c=res[key]; c=list(c); rng.shuffle(c)
  k,r=key.split()
  if k=='kiro' and r not in kiro_ok: continue
  m=2 if r in two.get(k,()) else 1
  if k=='bundle': c=[x for x in c if x=='tickets']
  for p in c[:m]: picks.append((k,r,head,p))
for p in picks: print(*p)
json.dump(picks,open('picks2.json','w'))
