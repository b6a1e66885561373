import subprocess, re, random, json, sys
exec(open('cands.py').read())
kinds={'kiro':kiro,'taskmaster':taskmaster,'speckit':speckit,'execplan':execplan,'noid':noid,'bundle':bundle}
pat={'kiro':r'(^|/)\.kiro/specs/[^/]+/tasks\.md$',
 'taskmaster':r'(^|/)(\.taskmaster/)?tasks/tasks\.json$',
 'speckit':r'(^|/)specs/[^/]+/tasks\.md$',
 'execplan':r'(^|/)(\.agent/(plans|exec-?plans?)/.*\.md|[^/]*exec-?plans?/.*\.md|\.agent/[^/]*(?i:execplan)[^/]*\.md)$',
 'noid':r'(^|/)(IMPLEMENTATION_PLAN|PLAN|TODO|ROADMAP)\.md$',
 'bundle':r'(^|/)tickets/$'}
skip=re.compile(r'(?i)(template|rules|commands|skills|readme|PLANS\.md$)')
import os
res={}
for k,l in kinds.items():
  for r in l:
    gd=f'/work/.mirror/{r.replace("/","+",1)}/repo'
    if not os.path.isdir(gd): continue
    commits=subprocess.run(['git','--git-dir',gd,'log','--all','--format=%H','-n','400'],capture_output=True,text=True).stdout.split()
    for head in commits[:1]+commits[1:]:
     out=subprocess.run(['git','--git-dir',gd,'ls-tree','-r','-l',head],capture_output=True,text=True).stdout
     ok=any(re.search(pat[k],l.split('\t',1)[1]) for l in out.splitlines()) if k!='bundle' else '/tickets/' in '/'+out
     if ok: break
    c=[]
    dirs=set()
    for line in out.splitlines():
      meta,path=line.split('\t',1); size=meta.split()[3]
      if k=='bundle':
        m=re.search(r'(^|.*/)tickets/',path)
        if m: dirs.add(m.group(0).rstrip('/'))
        continue
      if re.search(pat[k],path) and not skip.search(path.split('/')[-1]) and size!='-' and int(size)>=1200:
        c.append(path)
    if k=='bundle': c=sorted(dirs)
    res[f'{k} {r}']=(head,sorted(c))
# `list.py --second-pass`: only the repositories fetched after the first pass (files1.json).
second = '--second-pass' in sys.argv
if second:
  old=set(json.load(open('files1.json')));res={k:v for k,v in res.items() if k not in old}
rng=random.Random(20261208)
for key in sorted(res):
  head,c=res[key]; c=list(c); rng.shuffle(c)
  print(key, head[:12], len(res[key][1]), c[:3])
json.dump(res,open('files_all.json' if second else 'files.json','w'))
