import json, hashlib, subprocess, os, re, glob
exec(open('gen.py').read().split('def q(v)')[0].split('E={}')[0])
picks1=json.load(open('picks.json')); picks2=json.load(open('picks2.json'))
def kids(f):
  ids=[]
  for l in open(f).read().split('\n'):
    m=re.match(r'^\s*[-*] \[.\]\*?\s+(\d+(?:\.\d+)*)\.?\s',l)
    if m: ids.append(m.group(1))
  return ids
def bundle_digest(files):
  h=hashlib.sha256()
  for rel,data in sorted(files): h.update(rel.encode()+b'\0'+data)
  return h.hexdigest()
E=[]
# batch 1 ExecPlans 02, 03 (read after the first commit)
E.append((picks1[2],'raw/02','execplan','a "Detailed Task Breakdown" table with the plan\'s own ids T-103-01..10, a Status column (9 done, T-103-10 in progress) and a Dependency column; the Scope checklist, Manual Review Items and Completion Criteria checkboxes restate or check the same work and are not extra tasks',dict(tasks=10,ids=[f'T-103-{i:02d}' for i in range(1,11)],done=9,deps=[['T-103-02','T-103-01'],['T-103-05','T-103-02'],['T-103-08','T-103-04'],['T-103-08','T-103-07'],['T-103-09','T-103-08']],exit=0),dict(first_title='Verify branch/baseline',last_title='Complete validation and draft PR')))
E.append((picks1[3],'raw/03','execplan','a "Detailed Task Breakdown" table T-080-01..08 with Status (7 done, T-080-08 in review) and Dependency (T-080-07 on the range T-080-02..06); milestones with Status lines group the same work; the Progress Log is dated prose',dict(tasks=8,ids=[f'T-080-{i:02d}' for i in range(1,9)],done=7,deps=[['T-080-02','T-080-01'],['T-080-05','T-080-04'],['T-080-06','T-080-04'],['T-080-08','T-080-07']],exit=0),dict(first_title='Preflight remote',last_title='Draft PR, CI, Codex reviews')))
P={tuple(p[1:]):p for p in picks2}
by={p[3]:p for p in picks2}
E.append((by['.agent/execplans/fase-03-empresas-solicitudes.md'],'raw/b01','no-id','a Codex phase brief (Spanish) in an execplans folder, not an ExecPlan: 13 bullets under "Tareas Especificas" are the tasks; acceptance criteria and verification commands are not; nothing marked done',dict(tasks=13,done=0,exit=0),dict(first_title='Implementar CRUD controlado de companies',last_title='Auditar')))
E.append((by['.agent/execplans/fase-01-base-datos-prisma.md'],'raw/b02','no-id','a Codex phase brief (Spanish): 9 bullets under "Tareas Especificas", nothing marked done',dict(tasks=9,done=0,exit=0),dict(first_title='Crear schema con tablas finales')))
E.append((by['.kiro/specs/professional-repo-setup/tasks.md'],'raw/b04','kiro','8 numbered tasks (two optional `[ ]*`), sub-bullets are details; task 1 ticked',dict(tasks=8,ids=kids('raw/b04'),done=1,explicit_deps=0,exit=0),dict(dialect='kiro',first_title='Create core repository documentation',last_title='Implement advanced security and compliance measures')))
E.append((by['.kiro/specs/api-integration/tasks.md'],'raw/b05','kiro','Chinese cc-sdd style Kiro spec: 14 numbered tasks with nested sub-tasks (some optional `[ ]*`), 28 of 39 ticked',dict(tasks=39,ids=kids('raw/b05'),done=28,explicit_deps=0,exit=0),dict(dialect='kiro',first_title='安装依赖和基础配置',last_title='最终检查点')))
E.append((by['.kiro/specs/lockdrop-app/tasks.md'],'raw/b06','kiro','17 numbered tasks with nested sub-tasks, 57 of 63 ticked (parents 9-13 and 15 open)',dict(tasks=63,ids=kids('raw/b06'),done=57,explicit_deps=0,exit=0),dict(dialect='kiro',first_title='Set up Next.js project structure',last_title='Launch')))
E.append((by['.kiro/specs/css-loading-performance-fix/tasks.md'],'raw/b07','kiro','bugfix spec: 4 tasks, task 3 with 4 sub-tasks, all ticked',dict(tasks=8,ids=kids('raw/b07'),done=8,explicit_deps=0,exit=0),dict(dialect='kiro',first_title='Write bug condition exploration test',last_title='Checkpoint')))
E.append(([p for p in picks2 if p[1]=='0112LY/logo-gemma-lora'][0],'raw/b08','no-id','five "## Stage N" sections holding a Status field and guidance bullets: the stages are the tasks; Stages 1 and 3 say complete, Stage 4 only configured; the commit-milestone list restates deliverables',dict(tasks=5,done=2,exit=0),{}))
E.append(([p for p in picks2 if p[1]=='01fe23bcs183/lav_sms'][0],'raw/b09','no-id','roadmap: 134 unticked checkboxes under numbered sub-sections of phases 0-4',dict(tasks=134,done=0,exit=0),dict(first_title='Upgrade to Laravel 10/11',last_title='GDPR compliance')))
def tmlist(f):
  d=json.load(open(f)); ids=[];done=0;edges=[];ts=0
  for t in d:
    ids.append(str(t['id'])); done+=t.get('status')=='done'; ts+=bool(t.get('testStrategy'))
    for dd in t.get('dependencies',[]): edges.append([str(t['id']),str(dd)])
    for s in t.get('subtasks') or []:
      sid=str(s['id']) if '.' in str(s['id']) else f"{t['id']}.{s['id']}"; ids.append(sid); done+=s.get('status')=='done'
      for dd in s.get('dependencies') or []:
        dd=str(dd); edges.append([sid, dd if '.' in dd else f"{t['id']}.{dd}"])
  return dict(tasks=len(ids),ids=ids,done=done,deps=edges,exit=0)
E.append(([p for p in picks2 if p[0]=='taskmaster'][0],'raw/b11','taskmaster','legacy tasks/tasks.json written as a bare JSON list of 10 tasks (no "tasks" key); tasks 3, 5, 7 have 5 subtasks each whose ids are already dotted ("3.1" under task 3, so 3.3.1 ...); none done (task 1 in progress)',tmlist('raw/b11'),dict(dialect='taskmaster',first_title='Project Setup and Infrastructure')))
def q(v): return json.dumps(v,ensure_ascii=False)
out=[]
for (k,r,c,p),raw,d,notes,x,al in E:
  gd=f'/work/.mirror/{r.replace("/","+",1)}/repo'; t=tree(gd,c); dirn=os.path.dirname(p)
  nb=[]
  if d=='kiro': nb=[f'{dirn}/{n}' for n in ('design.md','requirements.md','spec.json','bugfix.md') if f'{dirn}/{n}' in t]
  elif d=='taskmaster': nb=[n for n in ('.taskmaster/config.json','.taskmaster/state.json') if n in t]+sorted(n for n in t if re.match(r'^tasks/task_\d+\.txt$',n))
  elif k=='execplan': nb=[n for n in ('.agent/PLANS.md',) if n in t]
  data=open(raw,'rb').read()
  s=['[[plan]]',f'id = {q(r+":"+p)}',f'repo = {q(r)}',f'path = {q(p)}',f'commit = "{c}"',f'sha256 = "{hashlib.sha256(data).hexdigest()}"',f'dialect = "{d}"','held_out = true','round = 2']
  if nb: s.append(f'neighbours = {q(nb)}')
  s+= [f'notes = {q(notes)}','[plan.expected]']+[f'{kk} = {q(x[kk])}' for kk in ('tasks','ids','done','deps','explicit_deps','exit') if kk in x]
  if al: s+=['[plan.expected.all]']+[f'{kk} = {q(vv)}' for kk,vv in al.items()]
  out.append('\n'.join(s))
# ticket bundle
bp=[p for p in picks2 if p[0]=='bundle'][0]; k,r,c,p=bp; gd=f'/work/.mirror/{r.replace("/","+",1)}/repo'
names=[n for n in subprocess.run(['git','--git-dir',gd,'ls-tree','-r','--name-only',c,'--','tickets/'],capture_output=True,text=True).stdout.split('\n') if n]
files=[(n,subprocess.run(['git','--git-dir',gd,'show',f'{c}:{n}'],capture_output=True).stdout) for n in names]
ids=[];edges=[]
for n,dta in files:
  if not re.search(r'PMC-\d+',n): continue
  fm=dta.decode().split('---')[1]; i=re.search(r'^id:\s*(\S+)',fm,re.M).group(1); ids.append(i)
  m=re.search(r'^dependencies:\s*(.*?)(?=^\w+:|\Z)',fm,re.M|re.S); edges+=[[i,dd] for dd in (re.findall(r'PMC-\d+',m.group(1)) if m else [])]
s=['[[plan]]',f'id = {q(r+":tickets")}',f'repo = {q(r)}','path = "tickets"',f'commit = "{c}"',f'sha256 = "{bundle_digest(files)}"','dialect = "bundle"','held_out = true','round = 2',
 f'notes = {q("105 ticket files PMC-001..PMC-105 with YAML front matter (id, title, phase, status: todo, dependencies list) and an INDEX.md table repeating them; no PLAN.md; every front-matter dependency is an edge")}',
 '[plan.expected]',f'tasks = {len(ids)}',f'ids = {q(ids)}','done = 0',f'deps = {q(edges)}','exit = 0','[plan.expected.all]','dialect = "t-id"','first_title = "Create plugin manifest"']
out.append('\n'.join(s))
print('\n\n'.join(out))
