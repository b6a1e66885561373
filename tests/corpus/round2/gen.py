import json, hashlib, subprocess, os, re
picks=json.load(open('picks.json'))
def tree(gd,c): return set(subprocess.run(['git','--git-dir',gd,'ls-tree','-r','--name-only',c],capture_output=True,text=True).stdout.split('\n'))
def tm(i):
  d=json.load(open(f'raw/{i:02d}'))
  v=d if isinstance(d.get('tasks'),list) else d['master']
  ids=[];done=0;edges=[];ts=0
  for t in v['tasks']:
    ids.append(str(t['id'])); done+=t.get('status')=='done'; ts+=bool(t.get('testStrategy'))
    for dd in t.get('dependencies',[]): edges.append([str(t['id']),str(dd)])
    for s in t.get('subtasks') or []:
      sid=f"{t['id']}.{s['id']}"; ids.append(sid); done+=s.get('status')=='done'; ts+=bool(s.get('testStrategy'))
      for dd in s.get('dependencies',[]):
        dd=str(dd); edges.append([sid, dd if '.' in dd else f"{t['id']}.{dd}"])
  return dict(tasks=len(ids),ids=ids,done=done,deps=edges,exit=0), ts
def kiro_ids(i):
  ids=[]
  for l in open(f'raw/{i:02d}').read().split('\n'):
    if re.match(r'^## (Definition of Done|Task Summary|Design Coverage|Execution Waves|Notes|Deployment)',l): break
    m=re.match(r'^\s*[-*] \[.\]\*?\s+(\d+(?:\.\d+)*)\.?\s',l)
    if m: ids.append(m.group(1))
  return ids
def sk_ids(i):
  out=[]
  for l in open(f'raw/{i:02d}').read().split('\n'):
    m=re.match(r'^\s*[-*] \[.\]\s+(?:\*\*)?(T\d+[A-Za-z0-9-]*)',l)
    if m and m.group(1) not in out: out.append(m.group(1))
  return out
E={}
# --- Kiro
E[7]=dict(d='kiro',notes='11 top-level numbered checkboxes (two optional `[ ]*`), sub-bullets are details; no sub-tasks',exp=dict(tasks=11,ids=kiro_ids(7),done=0,explicit_deps=0,exit=0),all=dict(dialect='kiro',first_title='Set up database schema and models',last_title='Add security and performance optimizations'))
E[8]=dict(d='kiro',notes='12 numbered tasks and 9 sub-tasks written at the top level (1.1 under 1.); 8 ticked, task 4 is `[-]` (in progress, not done)',exp=dict(tasks=21,ids=kiro_ids(8),done=8,explicit_deps=0,exit=0),all=dict(dialect='kiro',first_title='Supabase Database Setup',last_title='Final Integration and System Validation'))
E[9]=dict(d='kiro',notes='8 phases with 18 nested sub-tasks, all ticked; a Task Summary table repeats the sub-tasks with a Dependencies column (edges taken from it) and a stale `[ ]` Status column; the Definition of Done checklist is criteria, not tasks',exp=dict(tasks=26,ids=kiro_ids(9),done=26,deps=[['1.3','1.1'],['3.2','3.1'],['3.3','1.2'],['5.1','2.1'],['7.1','5.2'],['8.3','8.2']],exit=0),all=dict(dialect='kiro',first_title='Project Scaffold & Tooling',last_title='Create Dashboard Shell'))
E[10]=dict(d='kiro',notes='6 numbered tasks each with nested sub-task checkboxes (21), none ticked',exp=dict(tasks=27,ids=kiro_ids(10),done=0,explicit_deps=0,exit=0),all=dict(dialect='kiro',first_title='Add DynamoDB table and jobHistory Lambda',last_title='Verify existing upload/processing flow is unaffected'))
E[11]=dict(d='kiro',notes='tasks 0..15 with nested sub-tasks incl. optional `[ ]*` tests and checkpoint tasks; 13 ticked (0, 0.1-0.4, 1, 2, 2.1-2.4, 3.1, 6.1)',exp=dict(tasks=64,ids=kiro_ids(11),done=13,explicit_deps=0,exit=0),all=dict(dialect='kiro',first_title='Create standalone observability CDK stack structure',last_title='Deploy to production'))
# --- spec-kit
E[20]=dict(d='spec-kit',notes='Chinese, 84 tasks T001-T084 in phases 0-6, none ticked; a parallel-opportunities table names a few task dependencies (T021 on T019+T020, T034 on T032+T033)',exp=dict(tasks=84,ids=sk_ids(20),done=0,deps=[['T021','T019'],['T021','T020'],['T034','T032'],['T034','T033']],exit=0),all=dict(dialect='spec-kit',parallel=45))
E[21]=dict(d='spec-kit',notes='Chinese, 52 tasks all ticked; a `- [P]` legend line is not a task',exp=dict(tasks=52,ids=sk_ids(21),done=52,exit=0),all=dict(dialect='spec-kit',parallel=29))
E[22]=dict(d='spec-kit',notes='18 tasks all ticked',exp=dict(tasks=18,ids=sk_ids(22),done=18,exit=0),all=dict(dialect='spec-kit',parallel=4))
E[23]=dict(d='spec-kit',notes='Chinese, 69 tasks in 8 phases, 35 ticked; dependencies only by phase/story in prose',exp=dict(tasks=69,ids=sk_ids(23),done=35,exit=0),all=dict(dialect='spec-kit',parallel=21))
E[24]=dict(d='spec-kit',notes='32 tasks none ticked; phase dependencies in prose only',exp=dict(tasks=32,ids=sk_ids(24),done=0,exit=0),all=dict(dialect='spec-kit',parallel=14))
E[25]=dict(d='spec-kit',notes='older spec-kit layout (Phase 3.x), 42 tasks, 41 ticked (T040 open), one written `T041:`; Validation Checklist boxes are criteria; range dependencies, edge taken: content T023-T025 needed for T030',exp=dict(tasks=42,ids=sk_ids(25),done=41,deps=[['T030','T023']],exit=0),all=dict(dialect='spec-kit',parallel=25))
E[26]=dict(d='spec-kit',notes='Chinese, 123 task lines all ticked (`[X]`), but T037-T049 are used twice for different tasks (US1 and US2): two different tasks with one id, exit 2',exp=dict(tasks=123,ids=sk_ids(26),done=123,exit=2),all=dict(dialect='spec-kit'))
E[27]=dict(d='spec-kit',notes='12 tasks all ticked; within-story order T001 before T002 before T003',exp=dict(tasks=12,ids=sk_ids(27),done=12,deps=[['T002','T001'],['T003','T002'],['T003','T001']],exit=0),all=dict(dialect='spec-kit',parallel=3))
# --- ExecPlans
E[1]=dict(d='execplan',notes='Progress has 7 ticked items; Plan of Work steps are not named by them, so the Progress items are the tasks',exp=dict(tasks=7,done=7,explicit_deps=0,exit=0),all=dict(dialect='execplan'))
E[4]=dict(d='execplan',notes='ExecPlan without Progress checklist: the Implementation checklist (9 open items) is the work; the Progress log is dated prose',exp=dict(tasks=9,done=0,exit=0),all=dict(dialect='execplan',first_title='Update env schema and defaults',last_title='Run lint/build and manual scenario matrix'))
# --- no ids
E[6]=dict(d='no-id',notes='Chinese plan in an .agent/plans folder but no ExecPlan sections: a 7-step numbered implementation order, nothing marked done',exp=dict(tasks=7,done=0,exit=0))
E[13]=dict(d='no-id',notes='five workstream sections WS1-WS5 (some with sub-sections incl. Acceptance), no checkboxes; the suggested order lists exactly the workstreams, so they are the tasks; the numbered anatomy list at the top is reference',exp=dict(tasks=5,done=0,exit=0))
E[14]=dict(d='no-id',notes='design doc whose Implementation Phases hold numbered items: Phase 1 nine `[x]` items, Phase 2 six `[ ]` items, Phases 3-4 four bold items each (planned); numbered lists elsewhere are findings/examples',exp=dict(tasks=23,done=9,exit=0))
E[16]=dict(d='no-id',notes='three phases each with Description and artefact lists (tables, resources, components): the phases are the tasks',exp=dict(tasks=3,done=0,exit=0))
E[17]=dict(d='no-id',notes='93 checkboxes under Week sub-headings of four phases, none ticked; the sprint tables later restate the same work and are not extra tasks',exp=dict(tasks=93,done=0,exit=0),all=dict(first_title='Project scaffolding with Poetry/PDM',last_title='Soft launch with limited audience'))
E[18]=dict(d='no-id',notes='TODO with checklists under many sections, every box is work: 24 ticked under current status, gaps, next sprint, numbered feature sub-sections, data governance, hardening; 106 boxes, 54 ticked',exp=dict(tasks=106,done=54,exit=0))
E[19]=dict(d='no-id',notes='tiers with checkboxes whose bold titles carry their own numbers (1b, 1c, 1..28, 11b), all 31 ticked; Later/parked has no boxes',exp=dict(tasks=31,done=31,exit=0),all=dict(first_title='Force French answers',last_title='Hosted RAG warm-up'))
# --- Taskmaster
for i,ft in [(28,'Setup Project Structure with FastAPI'),(29,'Initialize Monorepo and Tooling'),(30,'Create Basic UI Layout and Components'),(31,'Initialize React + Vite + Tailwind'),(33,'Setup Project Foundation with Expo')]:
  e,ts=tm(i)
  E[i]=dict(d='taskmaster',notes=f'{e["tasks"]} tasks and subtasks, {e["done"]} with status done (review, in-progress, deferred are not done)',exp=e,all=dict(dialect='taskmaster',first_title=ft,acceptance_tasks_min=ts))
def q(v): return json.dumps(v,ensure_ascii=False)
out=[]
for i,(k,r,c,p) in enumerate(picks):
  if i not in E: continue
  gd=f'/work/.mirror/{r.replace("/","+",1)}/repo'; t=tree(gd,c); dirn=os.path.dirname(p)
  nb=[]
  if E[i]['d']=='kiro': nb=[f'{dirn}/{n}' for n in ('design.md','requirements.md','spec.json') if f'{dirn}/{n}' in t]
  elif E[i]['d']=='spec-kit': nb=[f'{dirn}/{n}' for n in ('plan.md','spec.md') if f'{dirn}/{n}' in t]
  elif E[i]['d']=='taskmaster':
    nb=[n for n in ('.taskmaster/config.json','.taskmaster/state.json') if n in t]+sorted(n for n in t if re.match(r'^tasks/task_\d+\.txt$',n))
  elif k=='execplan': nb=[n for n in ('.agent/PLANS.md',) if n in t]
  data=open(f'raw/{i:02d}','rb').read()
  e=E[i]; x=e['exp']
  s=[ '[[plan]]', f'id = {q(r+":"+p)}', f'repo = {q(r)}', f'path = {q(p)}', f'commit = "{c}"', f'sha256 = "{hashlib.sha256(data).hexdigest()}"', f'dialect = "{e["d"]}"', 'held_out = true', 'round = 2']
  if nb: s.append(f'neighbours = {q(nb)}')
  s.append(f'notes = {q(e["notes"])}'); s.append('[plan.expected]')
  for key in ('tasks','ids','done','deps','explicit_deps','exit'):
    if key in x: s.append(f'{key} = {q(x[key])}')
  if e.get('all'):
    s.append('[plan.expected.all]')
    for kk,vv in e['all'].items(): s.append(f'{kk} = {q(vv)}')
  out.append('\n'.join(s))
print('\n\n'.join(out))
