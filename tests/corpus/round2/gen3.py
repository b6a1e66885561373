import json,hashlib,subprocess,re,glob,os
def q(v): return json.dumps(v,ensure_ascii=False)
out=[]
r='Crafted-Corp/crafted_cloud_functions'; c='142dddf0bde873bec23a354509685d1cd356a490'
for p,raw,notes,x in [('.agent/exec-plans/creator-outreach-tooling.md','raw/c1','Progress names Milestones 1-8 (8 open items); Plan of Work has sections for Milestones 1-7 and milestone 8 is the verification step: the 8 Progress items are the tasks, none done',dict(tasks=8,done=0,explicit_deps=0,exit=0)),
  ('.agent/exec-plans/creator-outreach-modernization.md','raw/c3','Progress names M1-M12, one per milestone section: 12 tasks, 11 ticked (M12 open)',dict(tasks=12,done=11,explicit_deps=0,exit=0))]:
  data=open(raw,'rb').read()
  s=['[[plan]]',f'id = {q(r+":"+p)}',f'repo = {q(r)}',f'path = {q(p)}',f'commit = "{c}"',f'sha256 = "{hashlib.sha256(data).hexdigest()}"','dialect = "execplan"','held_out = true','round = 2',f'notes = {q(notes)}','[plan.expected]']+[f'{k} = {q(v)}' for k,v in x.items()]+['[plan.expected.all]','dialect = "execplan"']
  out.append('\n'.join(s))
r='Rakam-AI/beetween-temp'; c='c07d73ec9a0a7c0a9c53d0c27bc08053a09d8dc8'; gd='/work/.mirror/Rakam-AI+beetween-temp/repo'
names=[n for n in subprocess.run(['git','--git-dir',gd,'ls-tree','-r','--name-only',c,'--','tickets/'],capture_output=True,text=True).stdout.split('\n') if n]
files=[(n,subprocess.run(['git','--git-dir',gd,'show',f'{c}:{n}'],capture_output=True).stdout) for n in names]
h=hashlib.sha256()
for rel,data in sorted(files): h.update(rel.encode()+b'\0'+data)
ids=[];edges=[]
for n,d in sorted(files):
  b=os.path.basename(n)[:-3]
  if b=='INDEX': continue
  ids.append(b); m=re.search(r'^\*\*Depends on:\*\*(.*)$',d.decode(),re.M)
  if m: edges+=[[b,x] for x in re.findall(r'\bTF?\d+\.\d+\b',m.group(1))]
s=['[[plan]]',f'id = {q(r+":tickets")}',f'repo = {q(r)}','path = "tickets"',f'commit = "{c}"',f'sha256 = "{h.hexdigest()}"','dialect = "bundle"','held_out = true','round = 2',
 f'notes = {q("54 ticket files (backend T1.1-T2.21, frontend TF1.1-TF2.17) with **Depends on:** / **Blocks:** lines, an INDEX.md table repeating them; no status anywhere, no PLAN.md; every Depends on id is an edge")}',
 '[plan.expected]',f'tasks = {len(ids)}',f'ids = {q(ids)}','done = 0',f'deps = {q(edges)}','exit = 0','[plan.expected.all]','dialect = "t-id"']
out.append('\n'.join(s))
print('\n\n'.join(out))
