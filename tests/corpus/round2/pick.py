import json, random
res=json.load(open('files.json'))
n={'kiro':2,'taskmaster':1,'speckit':2,'execplan':2,'noid':2,'bundle':1}
# per-repo limit: 2 where a dialect needs it; chosen by the rng order from list.py
two={'speckit':{'0xb3i/hotel-reviews','123kunalmathur/techblogv1'},'execplan':{'DrewDiStefano11/jarvis-office-prototype','LiuShangquan/cloudsentinel'},'kiro':{'AWS-fpenland/PDF_accessability_UI'},'noid':{'MORAWA-dev/dakikobo'}}
rng=random.Random(20261208)
picks=[]
for key in sorted(res):
  head,c=res[key]; c=list(c); rng.shuffle(c)
  k,r=key.split()
  m=2 if r in two.get(k,()) else 1
  if k=='bundle': c=[x for x in c if x=='tickets']
  for p in c[:m]: picks.append((k,r,head,p))
for p in picks: print(*p)
json.dump(picks,open('picks.json','w'))
