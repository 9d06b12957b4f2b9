"""The package's layering, checked statically: every .py file of the repository (not .venv/, tests/ or bench/) is read
with `ast` and each rule fails listing every breach as `file:line: importer imports target`.

  (i)   nothing under src/ imports a top-level entry script (config, train, eval, export, ...);
  (ii)  the data side (src/data/**, the data tools in src/tools/) needs no MindSpore: no import of mindspore,
        src.runtime, src.engine, src.i3d or src.eco_lite, and nothing it imports at import time loads mindspore;
        the model tools are an explicit allow-list;
  (iii) the network definitions (src/i3d/network.py, src/eco_lite/network.py) do no data or file work: no src.data,
        src.tools, src.evaluation, nor file/IO modules;
  (iv)  evaluation (src/evaluation.py or src/evaluation/**) is model- and framework-free: no src.i3d, src.eco_lite,
        src.engine, mindspore;
  (v)   no import cycles among the modules under src/ (function-level imports included);
  (vi)  entry scripts may import src and the I3D option module config.py, but nothing except tests imports an entry
        script (scripts importing each other is a breach too);
  and every `src.` import names a module or package that exists.

Resolution: `import a.b.c` depends on a.b.c; `from a.b import n` on a.b.n when that is a module, otherwise on a.b;
relative imports are made absolute; importlib.import_module("literal") counts as an import. A module also depends on
the packages whose __init__ the import runs (a, a.b), except its own ancestors, which Python has always initialised
first; `from <own package> import <sibling module>` is therefore a sibling dependency, while
`from <own package> import <name defined in its __init__>` depends on the package.
"""
import ast
import functools
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SKIPPED_TOP_DIRS = {".venv", "tests", "bench", "work_dirs", "sample_data", "outputs"}

# The top-level entry scripts are the .py files in the repository root (config, train, eval, export, eval_onnx,
# preprocess, postprocess, get_310_eval_dataset, demo at the time of writing).
ENTRY_SCRIPTS = frozenset(path.stem for path in REPO_ROOT.glob("*.py"))
# config.py is no script: it holds I3D's option table and parsers, which the entry scripts share.
OPTIONS_MODULE = "config"

# src/tools/ holds two kinds of tool. The data tools (frames, flow, annotations, lists, sample videos, results table)
# must run on a machine without MindSpore. These model tools load or build a network, so they need it:
MODEL_TOOLS = {
    "src/tools/pt2ckpt.py": "converts PyTorch I3D weights into a MindSpore checkpoint of src.i3d's InceptionI3D",
    "src/tools/extract_features.py": "runs an I3D network over videos to write features",
    "src/tools/model_report.py": "builds the I3D and ECO-lite networks to count their parameters and FLOPs",
}
NO_MINDSPORE_FORBIDDEN = ("mindspore", "src.runtime", "src.engine", "src.i3d", "src.eco_lite")
NETWORK_FILES = ("src/i3d/network.py", "src/eco_lite/network.py")
NETWORK_FORBIDDEN = ("src.data", "src.tools", "src.evaluation", "os", "pathlib", "json", "cv2", "PIL", "shutil",
                     "glob", "io", "pickle", "csv", "yaml", "tempfile")
EVALUATION_FORBIDDEN = ("src.i3d", "src.eco_lite", "src.engine", "mindspore")


@dataclass(frozen=True)
class Import:
    file: str              # repository-relative path of the importing file
    line: int
    name: str              # the absolute dotted name as written (after making a relative import absolute)
    target: str            # what it depends on: a repository module when it is one, else `name`
    module_level: bool     # runs when the importing module is imported (not inside a function)

    def __str__(self):
        shown = self.name if self.name == self.target else f"{self.name} ({self.target})"
        return f"{self.file}:{self.line}: imports {shown}"


def within(name, prefixes):
    """Whether dotted `name` is one of `prefixes` or inside one of them."""
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def python_files():
    for path in sorted(REPO_ROOT.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).parts
        if parts[0] in SKIPPED_TOP_DIRS or any(part.startswith(".") or part == "__pycache__" for part in parts):
            continue
        yield path


def module_name(relative):
    """src/a/b.py -> src.a.b, src/a/__init__.py -> src.a, train.py -> train; None for files that are not importable
    modules of the repository (e.g. a .py under scripts/)."""
    parts = list(Path(relative).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if len(parts) == 1 or parts[0] == "src":
        return ".".join(parts)
    return None


@functools.lru_cache(maxsize=None)
def scan():
    """({module: relative path}, [Import]) for the whole repository."""
    files = {path.relative_to(REPO_ROOT).as_posix(): path for path in python_files()}
    modules = {name: rel for rel in files if (name := module_name(rel))}
    imports = []
    for rel, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        imports.extend(_imports_of(tree, rel, module_name(rel), modules))
    return modules, imports


def _package_of(rel, own_name):
    if own_name is None:
        return ""
    return own_name if rel.endswith("__init__.py") else own_name.rpartition(".")[0]


def _imports_of(tree, rel, own_name, modules):
    """Every import of one file, resolved."""
    package = _package_of(rel, own_name)
    found = []

    def visit(node, module_level):
        for child in ast.iter_child_nodes(node):
            inner = module_level and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(rel, child.lineno, alias.name, alias.name, inner))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".") if package else []
                    anchor = anchor[:len(anchor) - (child.level - 1)] if child.level > 1 else anchor
                    base = ".".join(anchor + ([child.module] if child.module else []))
                for alias in child.names:
                    submodule = f"{base}.{alias.name}" if base else alias.name
                    target = submodule if submodule in modules else base
                    found.append(Import(rel, child.lineno, target if target == submodule else base, target, inner))
            elif (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                  and child.func.attr == "import_module" and isinstance(child.func.value, ast.Name)
                  and child.func.value.id == "importlib" and child.args
                  and isinstance(child.args[0], ast.Constant) and isinstance(child.args[0].value, str)
                  and not child.args[0].value.startswith(".")):
                found.append(Import(rel, child.lineno, child.args[0].value, child.args[0].value, inner))
            visit(child, inner)

    visit(tree, True)
    return found


def dependencies(record, importer, modules):
    """The repository modules an import runs: its target and the packages on the way, less the importer's own
    ancestors (already initialised) unless the target is one of them."""
    parts = record.target.split(".")
    ancestors = {".".join(importer.split(".")[:i]) for i in range(1, importer.count(".") + 1)} if importer else set()
    deps = {record.target} if record.target in modules else set()
    deps |= {prefix for i in range(1, len(parts)) if (prefix := ".".join(parts[:i])) in modules
             and prefix not in ancestors}
    return deps


def report(breaches, rule):
    lines = sorted(set(map(str, breaches)))
    assert not lines, f"{len(lines)} breach(es) of the rule that {rule}:\n" + "\n".join(lines)


def imports_from(predicate):
    modules, imports = scan()
    return [record for record in imports if predicate(record.file)]


# ------------------------------------------------------------------------------------------------------------ rules

def test_the_scan_sees_the_package_and_the_entry_scripts():
    modules, imports = scan()
    assert {"src", "src.runtime", "src.engine.loop", "src.i3d.network", "src.eco_lite.network"} <= set(modules)
    assert {"train", "eval", "export", "config"} <= ENTRY_SCRIPTS and "train" in modules
    assert not any(record.file.startswith(("tests/", "bench/", ".venv/")) for record in imports)
    assert all((REPO_ROOT / path).is_file() for path in MODEL_TOOLS), "a listed model tool is gone: update MODEL_TOOLS"


def test_src_imports_name_existing_modules():
    modules, imports = scan()
    missing = [record for record in imports if within(record.name, ["src"]) and record.target not in modules]
    report(missing, "every src.* import names an existing module or package")


def test_src_does_not_import_entry_scripts():
    breaches = [record for record in imports_from(lambda file: file.startswith("src/"))
                if record.name.split(".")[0] in ENTRY_SCRIPTS]
    report(breaches, f"src/ does not import the top-level scripts {sorted(ENTRY_SCRIPTS)}")


def _is_data_side(file):
    return (file.startswith("src/data/") or file.startswith("src/tools/")) and file not in MODEL_TOOLS


def test_data_and_data_tools_need_no_mindspore():
    modules, imports = scan()
    breaches = [str(record) for record in imports_from(_is_data_side)
                if within(record.name, NO_MINDSPORE_FORBIDDEN) or within(record.target, NO_MINDSPORE_FORBIDDEN)]

    # At import time, through the repository's own modules: module-level imports only.
    by_module = {}
    for record in imports:
        importer = module_name(record.file)
        if importer and record.module_level:
            by_module.setdefault(importer, []).append(record)

    @functools.lru_cache(maxsize=None)
    def path_to_mindspore(module, seen=frozenset()):
        for record in by_module.get(module, []):
            if within(record.name, ["mindspore"]):
                return [f"{record.file}:{record.line} mindspore"]
            for dep in sorted(dependencies(record, module, modules) - seen - {module}):
                rest = path_to_mindspore(dep, seen | {module})
                if rest:
                    return [f"{record.file}:{record.line} {dep}"] + rest
        return None

    for rel, in_scope in ((rel, _is_data_side(rel)) for rel in sorted(set(modules.values()))):
        if in_scope and (chain := path_to_mindspore(module_name(rel))) and len(chain) > 1:
            breaches.append(f"{rel}: loads mindspore when imported: " + " -> ".join(chain))
    report(breaches, "src/data/** and the data tools of src/tools/ (all but the model tools "
                     f"{sorted(MODEL_TOOLS)}) import none of {list(NO_MINDSPORE_FORBIDDEN)}, directly or at import time")


def test_networks_do_no_data_or_file_work():
    breaches = [record for record in imports_from(lambda file: file in NETWORK_FILES)
                if within(record.name, NETWORK_FORBIDDEN) or within(record.target, NETWORK_FORBIDDEN)]
    report(breaches, f"{' and '.join(NETWORK_FILES)} import none of {list(NETWORK_FORBIDDEN)}")


def test_evaluation_is_model_and_framework_free():
    def in_evaluation(file):
        return file == "src/evaluation.py" or file.startswith("src/evaluation/")

    breaches = [record for record in imports_from(in_evaluation)
                if within(record.name, EVALUATION_FORBIDDEN) or within(record.target, EVALUATION_FORBIDDEN)]
    report(breaches, f"src/evaluation imports none of {list(EVALUATION_FORBIDDEN)}")


def test_no_import_cycles_in_src():
    modules, imports = scan()
    graph = {name: set() for name in modules if within(name, ["src"])}
    where = {}
    for record in imports:
        importer = module_name(record.file)
        if importer in graph:
            for dep in dependencies(record, importer, modules):
                if dep in graph and dep != importer:
                    graph[importer].add(dep)
                    where.setdefault((importer, dep), f"{record.file}:{record.line}")

    cycles = []
    for component in strongly_connected(graph):
        if len(component) > 1:
            cycle = a_cycle(graph, sorted(component))
            steps = [f"{a} -> {b} ({where[(a, b)]})" for a, b in zip(cycle, cycle[1:])]
            cycles.append(f"cycle among {sorted(component)}:\n    " + "\n    ".join(steps))
    report(cycles, "modules under src/ import each other without cycles")


def test_nothing_but_tests_imports_an_entry_script():
    breaches = [record for record in imports_from(lambda file: not file.startswith("src/"))
                if record.name.split(".")[0] in ENTRY_SCRIPTS - {OPTIONS_MODULE}]
    report(breaches, "only tests import the entry scripts (entry scripts import src, not each other)")


# ------------------------------------------------------------------------------------------------------ the graph

def strongly_connected(graph):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on_stack, stack, components, counter = {}, {}, set(), [], [], [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def a_cycle(graph, component):
    """One shortest cycle through the component's first module, as [m0, m1, ..., m0]."""
    start, members = component[0], set(component)
    parents, frontier = {start: None}, [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while parents[path[-1]] is not None:
                        path.append(parents[path[-1]])
                    return [start] + path[::-1][1:] + [start] if node != start else [start, start]
                if child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    return [start, start]


def test_cycle_finder_on_a_small_graph():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    components = sorted(sorted(c) for c in strongly_connected(graph) if len(c) > 1)
    assert components == [["a", "b", "c"]]
    assert a_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_resolution_of_absolute_relative_and_function_level_imports():
    modules = {"src": "src/__init__.py", "src.pkg": "src/pkg/__init__.py", "src.pkg.a": "src/pkg/a.py",
               "src.pkg.b": "src/pkg/b.py", "src.other": "src/other.py"}
    code = """
import os.path
from . import b
from .b import helper
from .. import other
from src.pkg import NAME
import importlib
def later():
    import mindspore as ms
    importlib.import_module("config")
"""
    found = _imports_of(ast.parse(code), "src/pkg/a.py", "src.pkg.a", modules)
    assert [(r.line, r.name, r.target, r.module_level) for r in found] == [
        (2, "os.path", "os.path", True), (3, "src.pkg.b", "src.pkg.b", True), (4, "src.pkg.b", "src.pkg.b", True),
        (5, "src.other", "src.other", True), (6, "src.pkg", "src.pkg", True), (7, "importlib", "importlib", True),
        (9, "mindspore", "mindspore", False), (10, "config", "config", False)]
    deps = [dependencies(record, "src.pkg.a", modules) for record in found]
    assert deps[1] == {"src.pkg.b"} and deps[3] == {"src.other"} and deps[4] == {"src.pkg"}
    outside = Import("train.py", 1, "src.pkg.b", "src.pkg.b", True)
    assert dependencies(outside, "train", modules) == {"src.pkg.b", "src.pkg", "src"}
