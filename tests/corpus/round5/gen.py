# Writes the round-5 entries (round5.toml, appended to plans.toml by hand) from the expectations
# below. The expectations were written by reading each file; the listings (Kiro and spec-kit
# ids, checkbox counts, Taskmaster JSON, writing-plans task headings, ticket folders) are
# mechanical. It reads the plan files from a local scratch folder (RAW/<index>/<path>, index
# = position in picks.json, 100+ in picks2.json, 200+ picks3.json, 300+ picks4.json, 400+
# picks5.json, 500+ picks6.json,
# 600+ picks7.json) that is not kept.      python3 gen.py [RAW]  > round5.toml
import hashlib, json, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
RAW = sys.argv[1] if len(sys.argv) > 1 else '/tmp/r5raw'
PICKS = {}
for name, base in (('picks.json', 0), ('picks2.json', 100), ('picks3.json', 200), ('picks4.json', 300), ('picks5.json', 400), ('picks6.json', 500), ('picks7.json', 600)):
    for i, p in enumerate(json.load(open(os.path.join(HERE, name)))):
        PICKS[base + i] = p


def d(i):
    return os.path.join(RAW, f'{i:03d}')


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
        m = re.match(r'^\s*(?:[-*+]|\d+\.) \[([ xX]?)\]', l) if on else None
        if m:
            n += 1
            k += m.group(1) in ('x', 'X')
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


def writing_plan_ids(i, pat):
    """Task headings matching PAT (group 1 = id); done when every step box under it is ticked."""
    order, steps, cur, fence = [], {}, None, False
    for l in open(raw(i), encoding='utf-8'):
        if l.lstrip().startswith('```'):
            fence = not fence
            continue
        if fence:
            continue
        m = re.match(pat, l)
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
    return order, sum(1 for t in order if steps[t][0] and steps[t][0] == steps[t][1])


E = {}  # index -> (dialect, neighbours, notes, expected, all)


def add(i, dialect, notes, exp, all_=None, neighbours=None):
    E[i] = (dialect, neighbours or [], notes, exp, all_ or {})


def nb(i, *names):
    base = os.path.dirname(PICKS[i][3])
    return [os.path.join(base, n) for n in names if os.path.exists(os.path.join(d(i), base, n))]


def root_nb(i, *names):
    return [n for n in names if os.path.exists(os.path.join(d(i), n))]


# ---- Kiro
ids, done = kiro(7)
add(7, 'kiro', 'cc-sdd (Chinese): `- [x] N.` groups with `- [x] N.M (P)` tasks at the same indent, all ticked but the optional `- [ ]* 11.4`; explicit prose dependencies in notes under groups 5-8 ("本任务依赖任务 2 和任务 1", ...) are edges; `_Requirements:_` lines are references',
    dict(tasks=len(ids), ids=ids, done=done, deps=[['5', '2'], ['5', '1'], ['6', '1.2'], ['6', '3'], ['7', '1.1'], ['7', '2.1'], ['7', '2.2'], ['8', '7'], ['8', '1.1']], exit=0),
    dict(dialect='kiro'), nb(7, 'design.md', 'requirements.md', 'spec.json'))
ids, done = kiro(8)
add(8, 'kiro', 'cc-sdd (Chinese): numbered groups and N.M tasks, all ticked but the optional `- [ ]* 8.4`; "依赖" in task 1 means a package dependency; `_Requirements:_` lines are references',
    dict(tasks=len(ids), ids=ids, done=done, explicit_deps=0, exit=0), dict(dialect='kiro'), nb(8, 'design.md', 'requirements.md', 'spec.json'))
ids, done = kiro(9)
add(9, 'kiro', 'numbered tasks 1-15 with `- [ ]*` optional property-test sub-tasks, none ticked; task 14 is a checkpoint (still a task); `_Requirements:_` lines are references',
    dict(tasks=len(ids), ids=ids, done=done, explicit_deps=0, exit=0), dict(dialect='kiro', first_title='Set up project structure', last_title='integration tests'), nb(9, 'design.md', 'requirements.md', 'spec.json'))
ids, done = kiro(10)
add(10, 'kiro', 'Vietnamese: `## Tasks` with nested `- [x] 1.1` under `- [x] 1.`, optional `- [ ]*` tests; group 1 and its three sub-tasks ticked; the frontend checklist under `## Notes` is a rule list, not tasks',
    dict(tasks=len(ids), ids=ids, done=done, explicit_deps=0, exit=0), dict(dialect='kiro'), nb(10, 'design.md', 'requirements.md', 'spec.json'))
ids, done = kiro(11)
add(11, 'kiro', 'Vietnamese bugfix spec: tasks 1-4 with 3.1-3.6, all ticked; the Task Dependency Graph (JSON in a code block) puts task 3 in the wave after tasks 1 and 2 and task 4 after 3: edges 3->1, 3->2, 4->3',
    dict(tasks=len(ids), ids=ids, done=done, deps=[['3', '1'], ['3', '2'], ['4', '3']], exit=0), dict(dialect='kiro'), nb(11, 'design.md', 'requirements.md', 'bugfix.md', 'spec.json'))
ids, done = kiro(12)
add(12, 'kiro', 'twenty top-level numbered tasks with detail bullets and `_Requirements:_` lines, none ticked, no sub-tasks',
    dict(tasks=len(ids), ids=ids, done=done, explicit_deps=0, exit=0), dict(dialect='kiro', first_title='Enhanced XSS Protection', last_title='Security Documentation and Training'), nb(12, 'design.md', 'requirements.md', 'spec.json'))

# ---- spec-kit
sk_notes = {
    18: ('traditional Chinese, 210 tasks T001-T204 plus suffixed ids, 116 ticked; the `- [P]` legend line is not a task', None),
    19: ('44 tasks all ticked (`[X]`), 12 [P]; the `- [P]` legend line is not a task; parallel notes are not edges', None),
    20: ('33 tasks, 32 ticked (T031 quickstart run open); "Within US1: T009 before T011; T012 after T011" and "T014 ... before T017; T017 before T018" are edges; story-level table rows are phase ordering',
         [['T011', 'T009'], ['T012', 'T011'], ['T017', 'T014'], ['T018', 'T017']]),
    21: ('47 tasks, 38 ticked; "T006-T008 can run in parallel after T005" gives edges to T005',
         [['T006', 'T005'], ['T007', 'T005'], ['T008', 'T005']]),
    22: ('Chinese, 43 tasks all ticked, 2 [P]', None),
    23: ('Chinese code-review plan, 122 tasks all ticked, 84 [P]; the mermaid graph under 依赖关系 gives edges (`T001 --> T042` = T042 after T001)',
         [['T042', 'T001'], ['T043', 'T002'], ['T097', 'T096'], ['T098', 'T097'], ['T099', 'T098']]),
    24: ('85 tasks, 72 ticked; notes listing task ids (`- T004: Reuse ...`) are progress notes, not tasks; "Domain model tasks T006-T011 can run in parallel after T003" gives edges to T003',
         [['T006', 'T003'], ['T011', 'T003']]),
}
for i, (note, deps) in sk_notes.items():
    ids, done, par = sk(i)
    exp = dict(tasks=len(ids), ids=ids, done=done, exit=0)
    if deps:
        exp['deps'] = deps
    add(i, 'spec-kit', note, exp, dict(dialect='spec-kit', parallel=par), nb(i, 'plan.md', 'spec.md'))

# ---- Taskmaster
tm_notes = {
    25: (None, 'tagged (master): 22 tasks, no subtasks, 3 done, each with a testStrategy'),
    26: ('architectural-cleanup', 'two tags; state.json names `architectural-cleanup` current: 3 tasks, all done (the master tag, tasks 22-27 with subtasks, is not the current one)'),
    27: (None, 'legacy untagged `{"tasks": [...]}` file under .taskmaster/: 25 tasks, all done'),
    28: (None, 'tagged (master), no state.json: 5 tasks + 32 subtasks; 3 tasks and 6 subtasks done'),
    600: (None, 'tagged (master): 15 tasks + 61 subtasks (bare numeric subtask ids), 3 tasks and 13 subtasks done; task-level dependencies only'),
    29: (None, 'two tags; state.json names master: 10 tasks (ids 16-25) + 60 subtasks; subtask dependencies written as dotted strings (`"16.1"`); done = 10 tasks + 53 subtasks'),
}
for i, (tag, note) in tm_notes.items():
    ids, done, edges, ts, first = tm(i, tag)
    all_ = dict(dialect='taskmaster', first_title=first)
    if ts:
        all_['acceptance_tasks_min'] = ts
    add(i, 'taskmaster', note, dict(tasks=len(ids), ids=ids, done=done, deps=edges, exit=0), all_,
        root_nb(i, '.taskmaster/config.json', '.taskmaster/state.json'))

# ---- ExecPlans (the Progress checklist is the record)
add(5, 'execplan', 'Progress: 9 timestamped items, 6 ticked; the four Concrete Steps are not named by Progress items, so the Progress items are the tasks',
    dict(tasks=9, done=6, explicit_deps=0, exit=0), dict(dialect='execplan'), root_nb(5, 'docs/PLANS.md'))
add(6, 'execplan', 'Progress: 4 timestamped items, all ticked; Concrete Steps are one shell block',
    dict(tasks=4, done=4, explicit_deps=0, exit=0), dict(dialect='execplan'), root_nb(6, 'docs/PLANS.md'))

ep = {
    501: (17, 0, 'Progress: 17 open items (advisory classifications, CI allowlist, verification); the two Implementation Units are not named by Progress items, so the Progress items are the tasks'),
    502: (5, 0, 'Progress: 5 timestamped open items; Milestones 1-3 are not each named by a Progress item (repro and validation items name none), so the Progress items are the tasks'),
    503: (7, 7, 'Progress: 7 timestamped items, all ticked'),
    504: (8, 8, 'Progress: 8 items, all ticked; no milestones'),
    505: (3, 3, 'Progress names each of the three work items `### W1` / `W2` / `W3` ("W1: Raised ...", all ticked), so they are the tasks (round 4 reading: a milestone named by Progress is a task); the ticked baseline and re-measure items name no work item and are context'),
}
for i, (n, k, note) in ep.items():
    add(i, 'execplan', note, dict(tasks=n, done=k, explicit_deps=0, exit=0), dict(dialect='execplan'),
        root_nb(i, '.agent/PLANS.md', 'PLANS.md'))

# ---- plans without ids
noid = {
    13: (None, None, 'flat TODO checklist, one nested box (Furniture groups) counted', 'Entity/device confusion', 'Device link quality'),
    14: (None, None, 'bioinformatics TODO: Completed and Open Items checklists under one redesign heading; struck-through resolved issues are plain bullets', 'Removed old inconsistent structure', 'Write methods document'),
    15: (None, None, 'research TODO with checklists under Now / Near-term / Deferred / Design / Medium-term / Future headings in two blocks; the seven ticked Design boxes are recorded decisions (done items)', 'Debug validation failure', 'STEP_LEONID'),
    17: (None, None, 'TODO whose open boxes are mostly written `- []` (no space); nested `- []` items under "Add more info" are tasks, the plain bullet under them is a detail', 'Set up DNS for stats subdomain', 'Change UI so the landing page'),
    31: (None, None, 'writing-plans folder file without Task headings: checklists under `## Phase A/B/5/C`, 19 of 20 ticked; the Resolved/Remaining tables (VR-01..VR-07) restate the work and are not tasks', 'warm_path_direct', 'checkpoint protocol'),
    100: (None, None, 'execution plan without Progress: checklists under `### Slice N` headings, all ticked; Acceptance Criteria are prose', 'Update current architecture and frontend docs', 'Verify no horizontal overflow'),
    101: (None, None, 'execution plan without Progress: one `## Tasks` checklist, all ticked', 'Create feature branch', 'Record verification evidence'),
    106: (None, None, 'development plan: checklists under `### Phase 1-3` (18 boxes, none ticked); component lists, data sources and the timeline are description', 'Basic layout and navigation', 'Educational tooltips'),
    108: (None, None, 'German TODO: bold-labelled boxes under three headings, none ticked', 'Display-Position', 'First Boot'),
    109: (None, None, 'version roadmap: checklists under `### ...` sections of versions 0.1.0-0.4.0 plus Future Ideas, 10 ticked', 'Fetch posts from the WordPress REST API', 'Retry/backoff'),
    110: (None, None, 'TODO: Next Steps / Nice to Have open boxes, Completed ticked boxes; Known Issues are plain bullets', 'Bulk actions', 'Manual scan button'),
    111: (None, None, 'TODO with `- []` open boxes (no space) and nested analytics boxes two levels deep, all counted', 'remove flow bite', 'refactor umami'),
}
for i, (start, stop, note, first, last) in noid.items():
    n, k = boxes(i, start, stop)
    add(i, 'no-id', note, dict(tasks=n, done=k, exit=0), dict(first_title=first, last_title=last))
add(107, 'no-id', 'Chinese TODO: five `###` items under priority headings (高/中优先级), each with 现状/影响/方向/验收标准 fields (so the items are the tasks, their 方向 bullets are options); the 记录在案但明确不做 (will not do) bullets are not tasks',
    dict(tasks=5, done=0, exit=0), dict(first_title='增量持久化与异步 IO', last_title='长尾问句召回优化'))
add(202, 'no-id', 'exec-plans file that is a work-item list: nine numbered Work Items (sub-bullets are details), none done; Success Metrics and Exit Criteria are criteria',
    dict(tasks=9, done=0, exit=0), dict(first_title='Prompt compaction pass', last_title='UX/manual override alignment'))

# ---- T-ID plans (writing-plans: the Task headings are the tasks, their step boxes the steps)
wp = {32: 'six `### Task N:` headings with step boxes, none ticked; large code blocks',
      33: 'four `### Task N:` headings with step boxes, none ticked',
      102: 'three `### Task N:` headings with step boxes, none ticked; the handoff document in a code block has its own `## 4.` headings (content)',
      103: 'four `### Task N:` headings with step boxes, none ticked',
      200: 'four `## Task N:` headings with plain step boxes, none ticked; Self-Review Notes are not tasks',
      201: 'four `### Task N:` headings with step boxes, none ticked',
      301: 'six `### Task N:` headings without step boxes (steps are prose and code), no done state'}
for i, note in wp.items():
    order, done = writing_plan(i)
    add(i, 't-id', 'writing-plans style: ' + note + '; a task is done when all its steps are ticked',
        dict(tasks=len(order), ids=order, done=done, explicit_deps=0, exit=0), dict(dialect='t-id'))
order, done = writing_plan_ids(34, r'^## Task (P\d+-T\d+)[:：]')
add(34, 't-id', 'Chinese writing-plans plan: `## Task P1-T1：...` ... `P1-T20` headings, every step box ticked (20 done); the 前置准备 prerequisite box, the 完成确认 and 验收清单 criteria boxes and boxes inside README samples are not tasks',
    dict(tasks=len(order), ids=order, done=done, explicit_deps=0, exit=0), dict(dialect='t-id', first_title='后端核心依赖安装', last_title='更新 README 文档'))

# ---- ticket bundles
ids = sorted(re.match(r'(\d\.\d)-', f).group(1) for f in os.listdir(os.path.join(d(3), 'tickets')) if re.match(r'\d\.\d-.*\.md$', f))
add(3, 'bundle', '29 tickets `N.M-slug.md` (0.1-4.6) with Phase / Depends on / Touches fields; the README status ledger says 23 are done and merged (0.1-0.4, 1.1-1.7, 2.1, 2.2, 2.4-2.6, 3.4, 4.1-4.6), 2.3 blocked, 3.1 and 3.5 partial, 3.2/3.3/3.6 not started; Depends-on edges kept where they name tickets (`1.7a`, "Phase 1 landed" and PR numbers are not ticket ids)',
    dict(tasks=29, ids=ids, done=23, deps=[['1.2', '1.1'], ['2.1', '0.1'], ['2.3', '0.4'], ['3.1', '1.6'], ['3.2', '1.5'], ['3.2', '3.1'], ['3.3', '3.1'], ['3.3', '2.6'], ['3.4', '1.3'], ['4.6', '1.7']], exit=0),
    dict(dialect='t-id'))
add(404, 'bundle', 'six AUDIT-001..006 tickets in `epics/<area>/` folders, all `Status: Scheduled` (open); the SPRINT-001 file groups them (not a task) and says AUDIT-002 and AUDIT-003 depend on AUDIT-001; the *_TEMPLATE.md files and READMEs are not tickets',
    dict(tasks=6, ids=[f'AUDIT-00{n}' for n in range(1, 7)], done=0, deps=[['AUDIT-002', 'AUDIT-001'], ['AUDIT-003', 'AUDIT-001']], exit=0), dict(dialect='t-id'))
ids = sorted(re.match(r'(\d{3})-', f).group(1) for f in os.listdir(os.path.join(d(406), 'tickets')) if re.match(r'\d{3}-.*\.md$', f))
add(406, 'bundle', '15 tickets `NNN-slug.md` (000-015, no 006) with `**Status:** DONE` (14) or TODO (014); `**Depends on:** #007, #012` fields give edges; 000 is a decision record marked DONE (still a ticket)',
    dict(tasks=15, ids=ids, done=14, deps=[['008', '007'], ['008', '012'], ['009', '008'], ['013', '012']], exit=0), dict(dialect='t-id'))


def q(s):
    return json.dumps(s, ensure_ascii=False)


def val(v):
    if isinstance(v, str):
        return q(v)
    if isinstance(v, list):
        return '[' + ', '.join(val(x) for x in v) + ']'
    return str(v)


out = ['# ---- Round 5 held-out set (round = 5), see README "Round 5". Nobody has run planexec on these.', '']
for i in sorted(E, key=lambda i: (PICKS[i][0], PICKS[i][1], PICKS[i][3])):
    k, r, c, p = PICKS[i]
    dialect, neighbours, notes, exp, all_ = E[i]
    if 'ids' in exp:
        assert len(exp['ids']) == exp['tasks'] == len(set(exp['ids'])), i
    out += ['', '[[plan]]', f'id = {q(r + ":" + p)}', f'repo = {q(r)}', f'path = {q(p)}', f'commit = {q(c)}',
            f'sha256 = {q(sha(i))}', f'dialect = {q(dialect)}', 'held_out = true', 'round = 5']
    if neighbours:
        out.append(f'neighbours = {val(neighbours)}')
    out.append(f'notes = {q(notes)}')
    out.append('[plan.expected]')
    out += [f'{key} = {val(v)}' for key, v in exp.items()]
    if all_:
        out.append('[plan.expected.all]')
        out += [f'{key} = {val(v)}' for key, v in all_.items()]
print('\n'.join(out))
