# Writes the round-3 entries (round3.toml, appended to plans.toml by hand) from the expectations
# below. The expectations were written by reading each file; the small listings (Kiro and
# spec-kit ids, checkbox counts, Taskmaster JSON, ticket fields) are mechanical. It reads the
# plan files from a local scratch folder (RAW/<index>/<path>) that is not kept.
import hashlib, json, os, re, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
RAW = sys.argv[1] if len(sys.argv) > 1 else '/work/r3/raw'
PICKS = {}
for name, base in (('picks.json', 0), ('picks2.json', 100), ('picks3.json', 200), ('picks4.json', 300), ('picks5.json', 400)):
    for i, p in enumerate(json.load(open(os.path.join(HERE, name)))):
        PICKS[base + i] = p


def raw(i):
    k, r, c, p = PICKS[i]
    return os.path.join(RAW, f'{i:02d}' if i < 100 else f'{i:03d}', p)


def tree(r, c):
    gd = f'/work/.mirror/{r.replace("/", "+", 1)}/repo'
    out = subprocess.run(['git', '--git-dir', gd, 'ls-tree', '-r', '--name-only', c],
                         capture_output=True, text=True).stdout
    return set(out.split('\n'))


def kiro(i, stop=r'^## (Notes|Task Dependency Graph|Implementation Order)'):
    ids = []
    for l in open(raw(i), encoding='utf-8').read().split('\n'):
        if re.match(stop, l):
            break
        m = re.match(r'^\s*[-*] \[.\]\*?\s+(\d+(?:\.\d+)*)\.?\s', l)
        if m:
            ids.append(m.group(1))
    return ids


def kiro_mids(i):
    return re.findall(r'(?m)^\s*[-*] \[.\]\s+(M[0-9A-Z]+-T\d+[A-Z]?)\s', open(raw(i), encoding='utf-8').read())


def sk(i):
    out = []
    for l in open(raw(i), encoding='utf-8'):
        m = re.match(r'^\s*[-*] \[.\]\s+(?:\*\*)?(T\d+[A-Za-z0-9-]*)', l)
        if m and m.group(1) not in out:
            out.append(m.group(1))
    return out


def tm(i, tag=None):
    d = json.load(open(raw(i)))
    v = d if isinstance(d.get('tasks'), list) else d[tag or 'master']
    ids, done, edges, ts = [], 0, [], 0
    for t in v['tasks']:
        ids.append(str(t['id']))
        done += t.get('status') in ('done', 'completed')
        ts += bool(t.get('testStrategy'))
        edges += [[str(t['id']), str(x)] for x in t.get('dependencies') or []]
        for s in t.get('subtasks') or []:
            sid = str(s['id']) if '.' in str(s['id']) else f"{t['id']}.{s['id']}"
            ids.append(sid)
            done += s.get('status') in ('done', 'completed')
            ts += bool(s.get('testStrategy'))
            for x in s.get('dependencies') or []:
                x = str(x)
                edges.append([sid, x if '.' in x else f"{t['id']}.{x}"])
    return dict(tasks=len(ids), ids=ids, done=done, deps=edges, exit=0), ts


def qnt(i):
    """The QNT ticket folder: ids, done (Status: DONE), direct dependencies (no ranges,
    no 'transitively', no 'complements')."""
    folder = raw(i)
    ids, done, edges = [], 0, []
    for name in sorted(os.listdir(folder)):
        m = re.match(r'(QNT-\d+)-', name)
        if not m:
            continue
        tid, s = m.group(1), open(os.path.join(folder, name), encoding='utf-8').read()
        ids.append(tid)
        done += re.search(r'\*\*Status:\*\*\s*DONE', s) is not None
        sec = re.search(r'^## Dependencies\s*\n(.*?)(?=^## )', s, re.S | re.M)
        text = sec.group(1) if sec else (re.search(r'\*\*Depends on:\*\*(.*)', s) or [None, ''])[1]
        text = re.split(r'transitively|complements|Blocks', text)[0]
        for d in re.findall(r'QNT-(\d+)', text):
            d = 'QNT-%03d' % int(d)
            if d != tid and [tid, d] not in edges:
                edges.append([tid, d])
    return ids, done, edges


def bundle_digest(files):
    h = hashlib.sha256()
    for rel, data in sorted(files):
        h.update(rel.encode() + b'\0' + data)
    return h.hexdigest()


E = {}
# ---------------------------------------------------------------- ticket bundles
E[0] = dict(d='bundle', notes='three tickets TKT-001..003 in tickets/done and tickets/building with a `state:` field (one done, two building) and an INDEX.md board; tickets/templates/ticket.md is the template (its placeholder TKT-001 is not a task); Acceptance Criteria boxes are criteria',
            exp=dict(tasks=3, ids=['TKT-001', 'TKT-002', 'TKT-003'], done=1, explicit_deps=0, exit=0), all=dict(dialect='t-id'))
ids, done, edges = qnt(1)
E[1] = dict(d='bundle', notes=f'{len(ids)} ticket files QNT-NNN with a `**Status:**` field ({done} DONE; BACKLOG, READY, BLOCKED are not done) and an INDEX.md table agreeing with them; dependencies from each ticket\'s Dependencies section or `**Depends on:**` line (direct ids only: ranges such as QNT-050..057 give their first id, "transitively", "complements" and "Blocks" mentions are left out); DEC-NNN decision records named as dependencies are not tickets and no contradiction',
            exp=dict(tasks=len(ids), ids=ids, done=done, deps=edges, exit=0), all=dict(dialect='t-id'))
# ---------------------------------------------------------------- ExecPlans
E[3] = dict(d='execplan', notes='Portuguese plan with Progress (20 items: 11 ticked context/decision items, 9 open work items); Implementation Steps 1-8 are not each named by a Progress item (7, inventory movements, is not), so the Progress items are the tasks',
            exp=dict(tasks=20, done=11, explicit_deps=0, exit=0), all=dict(dialect='execplan', first_title='Contexto inicial lido', last_title='Rodar validacoes'))
E[4] = dict(d='execplan', notes='Progress has 5 dated ticked items; Milestones 1-3 are not named by them, so the Progress items are the tasks, all done',
            exp=dict(tasks=5, done=5, explicit_deps=0, exit=0), all=dict(dialect='execplan'))
E[5] = dict(d='execplan', notes='Progress names Milestones 1-5 (1 and 2 ticked) plus one ticked reading item; every milestone is named, so the 5 milestones are the tasks, 2 done',
            exp=dict(tasks=5, done=2, explicit_deps=0, exit=0), all=dict(dialect='execplan'))
E[9] = dict(d='execplan', notes='Progress has 7 dated items, 6 ticked (manual in-game verification open); Milestones 1-6 are not named by them, so the Progress items are the tasks',
            exp=dict(tasks=7, done=6, explicit_deps=0, exit=0), all=dict(dialect='execplan'))
E[101] = dict(d='execplan', notes='Chinese ExecPlan: four numbered Milestones with detail bullets; Progress is one dated prose line (plan created), no checklist: the milestones are the tasks, none done',
              exp=dict(tasks=4, done=0, explicit_deps=0, exit=0), all=dict(dialect='execplan'))
E[102] = dict(d='execplan', notes='Chinese ExecPlan: five numbered Milestones with detail bullets; Progress is one dated prose line (plan created): the milestones are the tasks, none done',
              exp=dict(tasks=5, done=0, explicit_deps=0, exit=0), all=dict(dialect='execplan'))
# ---------------------------------------------------------------- T-ID
E[200] = dict(d='t-id', notes='one task file `# Task 001: ...` with `Status: Completed`; its Acceptance Criteria and Verification boxes are criteria, not tasks',
              exp=dict(tasks=1, done=1, explicit_deps=0, exit=0))
E[203] = dict(d='t-id', notes='Lithuanian TODO: `### P1-7: Title` ... `### P2-5: Title` sections, each with a **Statusas:** field (2 UZBAIGTA = done, the rest waiting); acceptance-criteria bullets are criteria; the P0 section has no items; the priorities list under Pastabos restates ids',
              exp=dict(tasks=13, ids=['P1-7', 'P1-8', 'P1-9', 'P1-10', 'P1-11', 'P1-12', 'P1-13', 'P1-14', 'P2-1', 'P2-2', 'P2-3', 'P2-4', 'P2-5'], done=2, explicit_deps=0, exit=0))
# ---------------------------------------------------------------- Kiro
E[10] = dict(d='kiro', notes='milestone sections (M19..M26) of checkbox tasks with their own ids (M21-T002A included); 34 ticked, `[?]` awaiting a decision and `[ ]` are not done; the status legend is in code spans, not boxes; `Requirements:` lines are references',
             exp=dict(tasks=40, ids=kiro_mids(10), done=34, explicit_deps=0, exit=0), all=dict(dialect='kiro'))
E[12] = dict(d='kiro', notes='9 numbered tasks with nested sub-tasks (23 boxes), 18 ticked; the optional `[ ]*` property-test task 9 and its 4 sub-tasks are open; a JSON wave list after the tasks orders them (no dependency claim made here)',
             exp=dict(tasks=23, ids=kiro(12), done=18, exit=0), all=dict(dialect='kiro', first_title='Add routes and page stubs', last_title='Write property test for field error clearing'))
E[13] = dict(d='kiro', notes='5 numbered tasks with nested sub-tasks (17 boxes), 14 ticked; optional `[ ]*` task 5 and its two sub-tasks open; JSON waves after the tasks (no dependency claim)',
             exp=dict(tasks=17, ids=kiro(13), done=14, exit=0), all=dict(dialect='kiro', first_title='Install vite-plugin-pwa and configure Vite', last_title='Verify cache invalidation awaits before redirect'))
E[14] = dict(d='kiro', notes='23 numbered tasks with nested sub-tasks, 103 boxes, 67 ticked (`[-]` task 6 in progress is not done; checkpoints included)',
             exp=dict(tasks=103, ids=kiro(14), done=67, explicit_deps=0, exit=0), all=dict(dialect='kiro', first_title='Set up project structure and dependencies', last_title='Final checkpoint'))
E[15] = dict(d='kiro', notes='bugfix spec (bugfix.md beside it, no requirements.md): 4 numbered tasks, task 3 with 3 sub-tasks, all ticked',
             exp=dict(tasks=7, ids=kiro(15), done=7, explicit_deps=0, exit=0), all=dict(dialect='kiro', first_title='Write bug condition exploration test', last_title='Checkpoint'))
E[16] = dict(d='kiro', notes='sub-tasks written at the top level (`- [x] 0.1` under `- [x] 0.`), tasks 0-9 plus optional post-MVP tasks 10-15 (`[ ]*`), 69 boxes, 17 ticked (`[-]` task 2 not done); the Implementation Order phases after the list restate the tasks',
             exp=dict(tasks=69, ids=kiro(16), done=17, explicit_deps=0, exit=0), all=dict(dialect='kiro', first_title='Development environment setup', last_title='Add backup/restore procedures'))
E[17] = dict(d='kiro', notes='Arabic spec: nine phase headings holding numbered tasks written at the top level (1, 1.1, 1.2, 2, ...), 35 boxes, 9 ticked',
             exp=dict(tasks=35, ids=kiro(17), done=9, explicit_deps=0, exit=0), all=dict(dialect='kiro'))
E[18] = dict(d='kiro', notes='Arabic spec: ten phase headings, numbered tasks at the top level (1, 1.1 .. 10.2), 47 boxes, 25 ticked',
             exp=dict(tasks=47, ids=kiro(18), done=25, explicit_deps=0, exit=0), all=dict(dialect='kiro'))
# ---------------------------------------------------------------- spec-kit
SK = {
    30: ('Chinese, 101 tasks T001-T099 plus **T012-FULL** and **T013-FULL** (the full versions of the stub tasks T012/T013), 59 ticked (T012/T013 are `[~]` partial, not done); many `**验收标准**` (acceptance) checklists are criteria, not tasks; story chains in the dependency section give edges (T035 -> T036/T037 -> T038 ..., T049 -> T050 ..., T060/T061 -> T062 ..., T018 -> T019 ...)',
         59, [['T036', 'T035'], ['T037', 'T035'], ['T038', 'T037'], ['T050', 'T049'], ['T054', 'T052'], ['T062', 'T061'], ['T067', 'T066'], ['T019', 'T018'], ['T028', 'T021']], 55),
    31: ('21 tasks none ticked; dependencies only by phase and story in prose', 0, None, 7),
    32: ('22 tasks all ticked (the same feature redone); dependencies only by phase in prose', 22, None, 7),
    33: ('Chinese, 36 tasks none ticked; no dependency section', 0, None, 11),
    34: ('Chinese, 49 tasks all ticked; dependencies only by phase/story in prose', 49, None, 23),
    35: ('97 tasks, 59 ticked; story dependencies in prose and an ASCII diagram (phase level only)', 59, None, 55),
    36: ('60 tasks none ticked; a `- [P] tasks = ...` legend line is not a task', 0, None, 24),
    37: ('54 tasks all ticked; parallel examples name task ranges, no task-level dependencies', 54, None, 28),
    38: ('72 tasks all ticked; dependencies by phase/story in prose', 72, None, 19),
}
for i, (notes, done, deps, par) in SK.items():
    ids = sk(i)
    exp = dict(tasks=len(ids), ids=ids, done=done, exit=0)
    if deps:
        exp['deps'] = deps
    E[i] = dict(d='spec-kit', notes=notes, exp=exp, all=dict(dialect='spec-kit', parallel=par))
# ---------------------------------------------------------------- Taskmaster
TM = {
    39: (None, 'Setup Project Repository', 'legacy tasks/tasks.json, 25 tasks (no subtasks), 23 done'),
    40: (None, 'Initialize Project and Repository', 'tagged (master only), 32 tasks and 68 subtasks, all done'),
    41: (None, 'Setup monorepo structure', 'a hand-made tasks/tasks.json in Taskmaster shape (project/version keys, subtask ids already dotted "1.1", status "completed"/"pending"): 9 tasks and 39 subtasks, 28 completed; no dependencies'),
    42: (None, 'Foundation: Schema Definition and Style Extraction', 'tagged: master (current tag in state.json) holds 10 tasks and 14 subtasks, all done; a second tag is empty'),
    43: (None, 'Project Setup and Base Architecture', 'legacy, 17 tasks and 41 subtasks, 57 done (one task deferred)'),
    44: (None, 'Project Setup and Configuration', 'legacy, 21 tasks and 50 subtasks, 15 done (in-progress and pending are not)'),
    45: (None, 'Set up Development Environment', 'legacy layout inside Clerk/.taskmaster/tasks/tasks.json, 20 tasks and 142 subtasks, all pending'),
    46: ('vision-v2', 'Setup Project Repository and Initial Configuration', 'two tags: state.json says the current tag is vision-v2 (15 tasks, 14 done); the master tag (ids 3-13, all done) is not the current work'),
}
for i, (tag, first, notes) in TM.items():
    e, ts = tm(i, tag)
    E[i] = dict(d='taskmaster', notes=notes + ' (review, in-progress, deferred, pending are not done)',
                exp=e, all=dict(dialect='taskmaster', first_title=first, acceptance_tasks_min=ts))
# ---------------------------------------------------------------- plans without ids
E[20] = dict(d='no-id', notes='113 checkboxes under `### N.M` sub-sections of ten phases, none ticked; the week timeline and Next Steps restate the phases',
             exp=dict(tasks=113, done=0, exit=0), all=dict(first_title='Update pubspec.yaml with all required dependencies', last_title='Version management'))
E[21] = dict(d='no-id', notes='Chinese TODO: 47 checkboxes with bold titles under work-area sub-sections, none ticked',
             exp=dict(tasks=47, done=0, exit=0))
E[24] = dict(d='no-id', notes='`#### Step N.M: Title` headings under seven phases (13 steps, code blocks between them), nothing marked done',
             exp=dict(tasks=13, ids=['1.1', '1.2', '1.3', '2.1', '2.2', '3.1', '3.2', '4.1', '5.1', '5.2', '6.1', '6.2', '7.1'], done=0, exit=0),
             all=dict(first_title='Initialize Monorepo', last_title='Create Error Handler Utility'))
E[26] = dict(d='no-id', notes='13 checkboxes with bold titles under four numbered sections, 6 ticked',
             exp=dict(tasks=13, done=6, exit=0))
E[28] = dict(d='no-id', notes='17 checkboxes under four sections (next steps, features, polish, known bugs), 8 ticked',
             exp=dict(tasks=17, done=8, exit=0), all=dict(first_title='Replace all logos and images with my own branding'))
E[29] = dict(d='no-id', notes='`* [ ]` checklists with nested items in Up Next, Paid Tier Roadmap, Known bugs and Done sections: 111 boxes, 55 ticked; two roadmap entries marked "(above)" are the Up Next tasks written again, so 109 tasks; the status legend is in code spans',
             exp=dict(tasks=109, done=55, exit=0))
E[105] = dict(d='no-id', notes='roadmap whose In Progress and Planned sections are empty and whose Recently Completed table lists 13 finished tasks (linked task files, dates): 13 tasks, all done',
              exp=dict(tasks=13, done=13, exit=0))
E[202] = dict(d='no-id', notes='12 checkboxes: six ticked under Completed Milestones, six open under three roadmap phases; the analysis and technical-debt sections hold no boxes',
              exp=dict(tasks=12, done=6, exit=0))
E[204] = dict(d='no-id', notes='seven phases of `### N.M Title` sub-sections (30), 18 marked `✅ COMPLETE` in the heading; the priority matrix, quick wins and next steps restate them',
              exp=dict(tasks=30, ids=['1.1', '1.2', '1.3', '1.4', '1.5', '2.1', '2.2', '2.3', '2.4', '3.1', '3.2', '3.3', '3.4', '4.1', '4.2', '4.3', '5.1', '5.2', '5.3', '5.4', '5.5', '6.1', '6.2', '6.3', '6.4', '7.1', '7.2', '7.3', '7.4', '7.5'], done=18, exit=0),
              all=dict(first_title='Prometheus Metrics Endpoint', last_title='Code Quality Improvements'))
E[205] = dict(d='no-id', notes='13 numbered feature headings (`### N. Title`) under six batches, detail bullets beneath; nothing marked done',
              exp=dict(tasks=13, done=0, exit=0), all=dict(first_title='Bulk Upload Exhibitors', last_title='Delete User'))
E[400] = dict(d='no-id', notes='Japanese plan in a plans/ folder (no ExecPlan sections): nine `### Phase N:` sections (an archive step, then eight article categories, each listing candidate topics); the phases are the tasks, the topic candidates are options, nothing marked done',
              exp=dict(tasks=9, done=0, exit=0))
E[401] = dict(d='no-id', notes='Japanese plan in a plans/ folder: four `### Step N:` sections (the numbered flow and site lists inside Step 1 describe the skill being written); nothing marked done',
              exp=dict(tasks=4, done=0, exit=0))


def neighbours(d, r, c, p):
    t, dirn = tree(r, c), os.path.dirname(p)
    if d == 'kiro':
        return [f'{dirn}/{n}' for n in ('bugfix.md', 'design.md', 'requirements.md', 'spec.json') if f'{dirn}/{n}' in t]
    if d == 'spec-kit':
        return [f'{dirn}/{n}' for n in ('plan.md', 'spec.md') if f'{dirn}/{n}' in t]
    if d == 'taskmaster':
        top = os.path.dirname(dirn)
        nb = [f'{top}/{n}'.lstrip('/') for n in ('config.json', 'state.json')] if top.endswith('.taskmaster') else []
        nb = [n for n in nb if n in t]
        return nb + sorted(n for n in t if re.match(re.escape(dirn) + r'/task_\d+\.txt$', n))
    if d in ('execplan', 't-id') and PICKS_KIND[(r, p)] == 'execplan':
        cands = ['.agent/PLANS.md', 'PLANS.md', os.path.join(os.path.dirname(dirn), 'PLANS.md')]
        return sorted({n for n in cands if n in t})
    return []


def q(v):
    return json.dumps(v, ensure_ascii=False)


PICKS_KIND = {(r, p): k for k, r, c, p in PICKS.values()}
out = []
for i in sorted(E):
    k, r, c, p = PICKS[i]
    e, x = E[i], E[i]['exp']
    if e['d'] == 'bundle':
        base = raw(i)[:-len(p)]
        files = [(os.path.relpath(os.path.join(dp, f), base), open(os.path.join(dp, f), 'rb').read())
                 for dp, _, fs in os.walk(raw(i)) for f in fs]
        sha = bundle_digest(files)
    else:
        sha = hashlib.sha256(open(raw(i), 'rb').read()).hexdigest()
    s = ['[[plan]]', f'id = {q(r + ":" + p)}', f'repo = {q(r)}', f'path = {q(p)}', f'commit = "{c}"',
         f'sha256 = "{sha}"', f'dialect = "{e["d"]}"', 'held_out = true', 'round = 3']
    nb = neighbours(e['d'], r, c, p)
    if nb:
        s.append(f'neighbours = {q(nb)}')
    s.append(f'notes = {q(e["notes"])}')
    s.append('[plan.expected]')
    for key in ('tasks', 'ids', 'done', 'deps', 'explicit_deps', 'exit'):
        if key in x:
            s.append(f'{key} = {q(x[key])}')
    if e.get('all'):
        s.append('[plan.expected.all]')
        for kk, vv in e['all'].items():
            s.append(f'{kk} = {q(vv)}')
    out.append('\n'.join(s))
print('\n\n'.join(out))
