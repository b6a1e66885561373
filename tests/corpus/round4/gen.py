# Writes the round-4 entries (round4.toml, appended to plans.toml by hand) from the expectations
# below. The expectations were written by reading each file; the listings (Kiro and spec-kit
# ids, checkbox counts, Taskmaster JSON, writing-plans task headings, ticket folders) are
# mechanical. It reads the plan files from a local scratch folder (RAW/<index>/<path>, index
# = position in picks.json, 100+ in picks2.json, 200+ picks3.json, 300+ picks4.json) that is
# not kept.      python3 gen.py [RAW]  > round4.toml
import hashlib, json, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
RAW = sys.argv[1] if len(sys.argv) > 1 else '/tmp/r4raw'
PICKS = {}
for name, base in (('picks.json', 0), ('picks2.json', 100), ('picks3.json', 200), ('picks4.json', 300)):
    for i, p in enumerate(json.load(open(os.path.join(HERE, name)))):
        PICKS[base + i] = p


def d(i):
    return os.path.join(RAW, f'{i:02d}' if i < 100 else str(i))


def raw(i):
    return os.path.join(d(i), PICKS[i][3])


def sha(i):
    p = raw(i)
    if os.path.isdir(p):
        h = hashlib.sha256()
        rels = sorted(os.path.relpath(os.path.join(a, f), d(i)) for a, _, fs in os.walk(p) for f in fs)
        for rel in rels:
            h.update(rel.encode() + b'\0' + open(os.path.join(d(i), rel), 'rb').read())
        return h.hexdigest()
    return hashlib.sha256(open(p, 'rb').read()).hexdigest()


def kiro(i):
    ids, done = [], 0
    for l in open(raw(i), encoding='utf-8'):
        if re.match(r'^## (Notes|Task Dependency Graph|Implementation Order)', l):
            break
        m = re.match(r'^\s*[-*] \[(.)\]\*?\s+(\d+(?:\.\d+)*)\.?\s', l)
        if m:
            ids.append(m.group(2))
            done += m.group(1) in 'xX'
    return ids, done


def sk(i):
    ids, done, par = [], 0, 0
    for l in open(raw(i), encoding='utf-8'):
        m = re.match(r'^\s*[-*] \[(.)\]\s+(?:\*\*)?(T\d+[A-Za-z0-9-]*)', l)
        if m and m.group(2) not in ids:
            ids.append(m.group(2))
            done += m.group(1) in 'xX'
            par += '[P]' in l
    return ids, done, par


def sk_table(i):
    """Task table rows `| T001 | [P] | ... | status |`: ids, done (✅ and ⏭️ skipped), [P]."""
    ids, done, par = [], 0, 0
    for l in open(raw(i), encoding='utf-8'):
        if re.match(r'^\| T\d+', l):
            cells = [c.strip() for c in l.split('|')]
            ids.append(cells[1])
            done += cells[-2].startswith(('✅', '⏭'))
            par += cells[2] == '[P]'
    return ids, done, par


def tm(i, tag=None):
    data = json.load(open(raw(i)))
    v = data if isinstance(data.get('tasks'), list) else data[tag or 'master']
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
    known = set(ids)
    edges = [e for e in edges if e[1] in known]  # an unsure bare number is left out (see notes)
    return ids, done, edges, ts, v['tasks'][0]['title']


def boxes(i, start=None, stop=None):
    """Checkbox items (outside fenced code) between two heading patterns: count, ticked."""
    on, fence, n, k = start is None, False, 0, 0
    for l in open(raw(i), encoding='utf-8'):
        if l.lstrip().startswith('```'):
            fence = not fence
            continue
        if fence:
            continue
        if not on and start and re.search(start, l):
            on = True
            continue
        if on and stop and re.search(stop, l):
            break
        m = re.match(r'^\s*(?:[-*+]|\d+\.) \[(.)\]', l) if on else None
        if m:
            n += 1
            k += m.group(1) in 'xX'
    return n, k


def writing_plan(i):
    """`### Task N:` headings; a task is done when all its step boxes are ticked."""
    order, steps, cur, fence = [], {}, None, False
    for l in open(raw(i), encoding='utf-8'):
        if l.lstrip().startswith('```'):
            fence = not fence
            continue
        if fence:
            continue
        m = re.match(r'^#{2,4} Task (\w+)[:：]?\s*(.*)', l)
        if m:
            cur = m.group(1)
            order.append(cur)
            steps[cur] = [0, 0]
            continue
        if re.match(r'^## ', l):
            cur = None
        m = re.match(r'^\s*[-*] \[(.)\]', l)
        if m and cur:
            steps[cur][0] += 1
            steps[cur][1] += m.group(1) in 'xX'
    done = sum(1 for t in order if steps[t][0] and steps[t][0] == steps[t][1])
    return order, done


def bundle_ids(i, pat):
    return sorted(re.match(pat, f).group(1) for a, _, fs in os.walk(raw(i)) for f in fs if re.match(pat, f))


E = {}  # index -> (dialect, neighbours, notes, expected, all)


def add(i, dialect, notes, exp, all_=None, neighbours=None):
    E[i] = (dialect, neighbours or [], notes, exp, all_ or {})


def nb(i, *names):
    base = os.path.dirname(PICKS[i][3])
    return [os.path.join(base, n) for n in names if os.path.exists(os.path.join(d(i), base, n))]


# ---- Kiro
add(12, 'kiro', 'Spanish: eight `- [x] **Task N: Title**` checkboxes with file-list bullets (7 ticked, Task 8 open); the dependency graph in a code block says `[5. Tests] depends on [1] [2]`',
    dict(tasks=8, ids=[str(n) for n in range(1, 9)], done=7, deps=[['5', '1'], ['5', '2']], exit=0),
    dict(dialect='kiro', first_title='Core Agent', last_title='Seed Knowledge Base'), nb(12, 'design.md', 'requirements.md'))
for i, note in ((14, 'cc-sdd (Chinese): `## N. Title` groups of `- [x] N.M` tasks, (P) markers; 15 of 16 ticked (5.2 deploy open); group headings are not tasks; group-order remarks in headings are not task dependencies'),
                (15, 'cc-sdd (Chinese): `## N. Title` groups of `- [x] N.M` tasks, (P) markers; 16 of 17 ticked (5.2 deploy open); group headings are not tasks')):
    ids, done = kiro(i)
    add(i, 'kiro', note, dict(tasks=len(ids), ids=ids, done=done, exit=0), dict(dialect='kiro'), nb(i, 'design.md', 'requirements.md', 'spec.json'))
for i, note in ((16, 'numbered checkboxes with nested N.M tasks, all 19 ticked; `_Requirements:_` lines are references'),
                (17, 'numbered checkboxes with nested N.M tasks (3.1..3.12), all 44 ticked; `_Requirements:_` lines are references'),
                (18, 'numbered checkboxes with nested N.M tasks, `- [ ]*` optional property-test tasks included, none ticked; `_Requirements:_` lines are references'),
                (19, 'numbered checkboxes with nested N.M tasks, all 17 ticked; the code sample with `dependencies=[Depends(...)]` is code, not a dependency')):
    ids, done = kiro(i)
    add(i, 'kiro', note, dict(tasks=len(ids), ids=ids, done=done, explicit_deps=0, exit=0), dict(dialect='kiro'), nb(i, 'design.md', 'requirements.md'))

# ---- Taskmaster
tm_notes = {
    41: ('two', 'tagged file with three tags (master, database, two); state.json names `two` current: 10 tasks + 50 subtasks, all done (the Russian `database` tag is not read)'),
    42: (None, 'tagged (master): 10 tasks + 37 subtasks, all pending'),
    43: (None, 'tagged (master): 10 tasks, no subtasks, all done'),
    44: (None, 'tagged (master): 8 tasks + 60 subtasks; done = `done` (6 tasks, 28 subtasks) and `completed` (17 subtasks, counted done as in round 3); pending is not done'),
    45: (None, 'tagged (master): 15 tasks + 29 subtasks, all done'),
    46: (None, 'tagged (master): 10 tasks + 36 subtasks, all pending; subtask 6.1 depends on bare `5`, which names no sibling (no 6.5) but task 5 exists (task 6 itself depends on 5): left out as unsure, and no contradiction'),
    47: (None, 'tagged (master): 10 tasks + 41 subtasks, all pending'),
}
for i, (tag, note) in tm_notes.items():
    ids, done, edges, ts, first = tm(i, tag)
    add(i, 'taskmaster', note, dict(tasks=len(ids), ids=ids, done=done, deps=edges, exit=0),
        dict(dialect='taskmaster', first_title=first, acceptance_tasks_min=ts), ['.taskmaster/config.json', '.taskmaster/state.json'])

# ---- spec-kit
sk_notes = {
    33: ('23 tasks T001-T023 all ticked, 6 [P]; the Dependencies section orders phases only (no task edges asserted)', None),
    34: ('13 tasks T001-T013 all ticked; `[P1]` is a priority tag, not the parallel marker', None),
    35: ('15 tasks all ticked with requirement tags `[FR-1, ...]`; the Dependency Notes paragraph is prose ordering', None),
    37: ('Chinese, 112 tasks T001-T112 (`[X]` upper case), 61 done; phase-level dependency graph only; the context-header template in a code block is not structure', None),
    38: ('Korean, 67 tasks, all ticked, 39 [P]; the two legend lines `- [P] ...` / `- [Story] ...` are not tasks; "T031/T032 → T046" in the dependency notes is an edge', [['T046', 'T031'], ['T046', 'T032']]),
    39: ('Korean/English, 223 tasks including suffixed ids T078A ... T088B, all ticked, 120 [P]', None),
    40: ('Japanese, 54 tasks all ticked, 43 [P]; two legend lines are not tasks; phase/story dependencies only', None),
}
for i, (note, deps) in sk_notes.items():
    ids, done, par = sk(i)
    exp = dict(tasks=len(ids), ids=ids, done=done, exit=0)
    if deps:
        exp['deps'] = deps
    add(i, 'spec-kit', note, exp, dict(dialect='spec-kit', parallel=par), nb(i, 'plan.md', 'spec.md'))
ids, done, par = sk_table(36)
add(36, 'spec-kit', 'Chinese: tasks are rows of per-phase tables `| T001 | [P] | title | files | status |` (73 rows, T001-T080 with gaps); done = ✅ (69) plus the two ⏭️ skipped rows (settled, counted done as round 1 does for skipped items); ⚪ todo and 🟡 partial are open; the 验收标准 checkboxes are acceptance criteria; the summary table (67 done) is stale and not the record',
    dict(tasks=len(ids), ids=ids, done=done, exit=0), dict(dialect='spec-kit', parallel=par), nb(36, 'plan.md', 'spec.md'))

# ---- ExecPlans (the Progress checklist is the record)
ep = {
    7: (7, 7, 'Progress: 7 timestamped items, all ticked; no milestones; plan moved to completed/'),
    8: (8, 8, 'Progress: 8 timestamped items, all ticked; no milestones'),
    10: (12, 12, 'Progress: 12 timestamped items, all ticked (the plan sits in active/)'),
    11: (4, 4, 'Progress: 4 timestamped items, all ticked'),
    100: (6, 5, 'Chinese ExecPlan (bilingual headings): Progress 6 items, 5 ticked, the validation item open'),
    101: (6, 6, 'Chinese ExecPlan: Progress 6 items, all ticked'),
    102: (8, 8, 'Progress names each of the 8 milestones (`Milestone N: ...`), all ticked; the milestones are the tasks'),
    103: (5, 0, 'Progress names each of the 5 milestones (all open), so the milestones are the tasks; the one ticked Progress item (research) names no milestone and is context'),
    105: (5, 5, 'Progress names each of the 5 milestones (Sprint 1-2), all ticked; milestones are the tasks'),
}
for i, (n, k, note) in ep.items():
    add(i, 'execplan', note, dict(tasks=n, done=k, explicit_deps=0, exit=0), dict(dialect='execplan'),
        [p for p in ('.agents/PLANS.md', '.agent/PLANS.md') if os.path.exists(os.path.join(d(i), p))])

# ---- plans without ids
n, k = boxes(20, 'Implementation Steps', r'^## ⏱')
add(20, 'no-id', 'checkboxes under `### Step N: Title (time)` headings (14 steps), none ticked; Success Criteria boxes are criteria; the time table and iteration plan restate the steps',
    dict(tasks=n, done=k, exit=0), dict(first_title='Create src/styles/duolingo.css', last_title='Deploy to Vercel'))
n, k = boxes(23)
add(23, 'no-id', 'checklists under `## Phase N` headings; nested plain bullets (domain names) are details; "IN PROGRESS" items are open',
    dict(tasks=n, done=k, exit=0), dict(first_title='allaboutxrp.com site built', last_title='Chrome extension'))
n, k = boxes(27)
add(27, 'no-id', 'checklists under `## Phase N` headings plus an engineering-debt checklist; dated `*(Jul 2026)*` notes on ticked items; decision paragraphs are prose',
    dict(tasks=n, done=k, exit=0), dict(first_title='Fix mobile navigation'))
add(30, 'no-id', 'plain bullets under `## Phase N:` headings (4+5+4+6+5), no state; the numbered Acceptance Scenario is criteria',
    dict(tasks=24, done=0, exit=0), dict(first_title='npm workspace monorepo', last_title='seeded demo script'))
n, k = boxes(31)
add(31, 'no-id', 'documentation plan: per-file checkboxes under phase / section headings, all ticked; a contract-doc template in a code block and the numbered session checklist are not tasks',
    dict(tasks=n, done=k, exit=0), dict(first_title='Create directory structure'))
add(32, 'no-id', 'status-legend roadmap: bullets marked ✅ done / 🟡 in progress / ⬜ not started under `## Phase N;` headings (24, 11 ✅)',
    dict(tasks=24, done=11, exit=0), dict(first_title='PRD captured', last_title='LLM interpret'))
n, k = boxes(302)
add(302, 'no-id', 'checkboxes (104, none ticked) under bold numbered groups inside `#### A.1 ...` sub-sections of three options; the Recommended Execution Order names sub-sections (an order, not tasks); ✅ success metrics and status bullets are not tasks',
    dict(tasks=n, done=k, exit=0), dict(first_title='Review and test existing'))
n, k = boxes(308, None, r'^## Definition of')
add(308, 'no-id', 'checkboxes under each phase (Tasks lists and component sub-headings), 14 ticked in the completed Phase 5; the Definition of "Done" boxes are criteria; the Milestone Map table restates phases',
    dict(tasks=n, done=k, exit=0), dict(first_title='Init Next.js 15 with TypeScript'))
n, k = boxes(309)
add(309, 'no-id', 'Chinese design document whose development-stage section (九、开发阶段划分) holds the only checklist: 31 items under 阶段1-4, 25 ticked; ✅ bullets elsewhere describe features',
    dict(tasks=n, done=k, exit=0), dict(first_title='项目骨架搭建', last_title='兼容性测试'))
add(5, 'no-id', 'phases hold labelled fields (Implemented / Outcome / Goal / Focus / Deliverables), so the phases are the tasks: 11 phase headings (there is no Phase 6), 6 marked (COMPLETED); Phase 12 (Optional) is still a task',
    dict(tasks=11, done=6, exit=0))

# ---- T-ID plans
add(21, 't-id', 'backlog of `## E08 — Title` epics (E08-E10) holding Goal / design / decision fields; none done; the Already shipped list is reference',
    dict(tasks=3, ids=['E08', 'E09', 'E10'], done=0, explicit_deps=0, exit=0), dict(first_title='CI/CD'))
add(305, 't-id', 'milestones `## M0 — Title` ... `## M7` holding State / Goal / Entry / Scope / Exit-criteria fields, every State COMPLETE; the `After M7` section says no further milestone is defined and is not a task',
    dict(tasks=8, ids=[f'M{n}' for n in range(8)], done=8, exit=0), dict(first_title='Architecture Contract'))
wp = {48: 'writing-plans style: `### Task N:` headings (4), each with `- [ ] **Step k: ...**` step boxes (none ticked); the documents to write sit in code blocks',
      49: 'writing-plans style: `### Task 0:` ... `### Task 15:` headings; step boxes only under tasks 0 and 15, none ticked; a changelog and README in code blocks are content',
      50: 'writing-plans style: Tasks 1, 2, 3, 3A, 4; Task 3A has all four step boxes ticked (done), the others none; release notes in code blocks are content',
      51: 'Chinese writing-plans plan: `### Task 1:` ... `### Task 13:` with step boxes, none ticked; large code blocks'}
for i, note in wp.items():
    order, done = writing_plan(i)
    add(i, 't-id', note + '; the tasks are the Task headings, their Step boxes are the task\'s steps (a task is done when all its steps are ticked)',
        dict(tasks=len(order), ids=order, done=done, explicit_deps=0, exit=0), dict(dialect='t-id'))

# ---- ticket bundles
ids = bundle_ids(0, r'(TICKET-\d+)\.md$')
dep00 = ((2, (1,)), (3, (1, 2)), (4, (1, 2, 3)), (5, (1, 2)), (6, (1, 2)), (7, (1, 2)), (8, (1, 2)),
         (9, (1, 2)), (10, (1, 2)), (11, (1, 2)), (12, (1, 6)), (13, (1, 8)), (14, (1,)), (15, (1, 2, 3)),
         (16, (1,)), (17, (1,)))
edges = [[f'TICKET-{a:03d}', f'TICKET-{b:03d}'] for a, bs in dep00 for b in bs]
add(0, 'bundle', 'French: 18 ticket files TICKET-001..018 with no status field; each ticket\'s Tâches checkboxes are all ticked (001-015, done) or all open (016-018); `## Dépendances` lists give edges (a range "TICKET-001 à 003" gives its first id, "TICKET-001, 002, 003" its full id only; "TICKET-016 lancé en parallèle" is not a dependency)',
    dict(tasks=18, ids=ids, done=15, deps=edges, exit=0), dict(dialect='t-id'))
ids = bundle_ids(3, r'(TICKET-\d+)\.md$')
add(3, 'bundle', '26 bug tickets (TICKET-001..036 with gaps) with Title / Type / Priority / Description fields and no status: all open; "Dependencies" in TICKET-017 means npm packages',
    dict(tasks=len(ids), ids=ids, done=0, explicit_deps=0, exit=0), dict(dialect='t-id'))
ids = bundle_ids(201, r'(TICKET-\d+a?)\.md$')
add(201, 'bundle', 'five tickets TICKET-001, 002, 002a, 003, 010 with Steps lists and open Acceptance Criteria boxes, no status: all open',
    dict(tasks=5, ids=ids, done=0, explicit_deps=0, exit=0), dict(dialect='t-id'))
add(202, 'bundle', 'six tickets `tickets/done/001.md`..`006.md` (`# Ticket 001 — Title`), all in the done folder (three also say Status DONE); the README asks for sequential order',
    dict(tasks=6, ids=[f'{n:03d}' for n in range(1, 7)], done=6, exit=0), dict(dialect='t-id'))


def q(s):
    return json.dumps(s, ensure_ascii=False)


def val(v):
    if isinstance(v, str):
        return q(v)
    if isinstance(v, list):
        return '[' + ', '.join(val(x) for x in v) + ']'
    return str(v)


out = ['# ---- Round 4 held-out set (round = 4), see README "Round 4". Nobody has run planexec on these.', '']
for i in sorted(E, key=lambda i: (PICKS[i][0], PICKS[i][1], PICKS[i][3])):
    k, r, c, p = PICKS[i]
    dialect, neighbours, notes, exp, all_ = E[i]
    if 'ids' in exp:
        assert len(exp['ids']) == exp['tasks'] == len(set(exp['ids'])), i
    out += ['', '[[plan]]', f'id = {q(r + ":" + p)}', f'repo = {q(r)}', f'path = {q(p)}', f'commit = {q(c)}',
            f'sha256 = {q(sha(i))}', f'dialect = {q(dialect)}', 'held_out = true', 'round = 4']
    if neighbours:
        out.append(f'neighbours = {val(neighbours)}')
    out.append(f'notes = {q(notes)}')
    out.append('[plan.expected]')
    out += [f'{key} = {val(v)}' for key, v in exp.items()]
    if all_:
        out.append('[plan.expected.all]')
        out += [f'{key} = {val(v)}' for key, v in all_.items()]
print('\n'.join(out))
