"""A static scan of a submission's own code for tricks against the tests, reported as flags in the summary.

Only the learner's cells are read (answer cells, and cells they added); the read-only and test cells are
nbgrader's and are restored anyway. A flag never changes a score: it tells the instructor where to look.
The patterns are things an honest answer to these exercises never needs (tests/test_autograder.py checks that
no solution and no plausible wrong answer in tests/submissions/ raises one):

- replacing attributes of imported modules (``np.allclose = ...``, ``setattr(math, ...)``), ``sys.modules``,
  the ``builtins`` module, import hooks;
- classes that fake comparisons or numbers (``__eq__``, ``__ne__``, ``__float__``, ``__instancecheck__``...);
- redefining the tests' helpers (``fresh``, ``GradingError``, ``assert_close``...) or built-ins as functions;
- naming the course's files (``.ipynb``, ``solutions/``, the gradebook...), locating them (``__file__``,
  ``inspect.getsource``), reading files through TensorFlow's C++ file API;
- inspecting the call stack or the garbage collector (``sys._getframe``, ``inspect.stack``, ``f_locals``,
  ``gc.get_objects``), tracing, audit hooks, ctypes;
- IPython internals that rewrite or hide later cells (input or AST transformers, ``set_custom_exc``);
- starting or killing processes (``subprocess``, ``os.system``, ``!cmd``, ``os.kill``, ``os._exit``);
- running code built at run time (``exec``, ``eval``, ``compile``, ``__import__``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

MODULE_ALIASES = {
    "np": "numpy",
    "numpy": "numpy",
    "math": "math",
    "keras": "keras",
    "losslab": "losslab",
    "builtins": "builtins",
    "sys": "sys",
    "os": "os",
    "tf": "tensorflow",
    "data": "losslab.data",
}
TEST_HELPERS = {
    "fresh",
    "GradingError",
    "require",
    "as_float",
    "as_floats",
    "as_int",
    "as_text",
    "as_choice",
    "assert_close",
    "assert_in_range",
    "assert_finite",
    "integrity_problems",
}
SHADOWED_BUILTINS = {
    "isinstance",
    "issubclass",
    "callable",
    "hasattr",
    "getattr",
    "type",
    "abs",
    "float",
    "int",
    "str",
    "bool",
    "len",
    "round",
    "all",
    "any",
    "AssertionError",
    "Exception",
}
FAKE_DUNDERS = {
    "__eq__",
    "__ne__",
    "__hash__",
    "__instancecheck__",
    "__subclasscheck__",
    "__getattribute__",
    "__class__",
    "__float__",
    "__index__",
    "__array__",
    "__array_ufunc__",
    "__array_function__",
    "__bool__",
    "__complex__",
}
TELLING_STRINGS = (".ipynb", "gradebook", "solutions", "autograded", "submitted", "nbgrader", "hidden test")
INTROSPECTION = {
    ("sys", "_getframe"): "inspects the call stack (sys._getframe)",
    ("sys", "settrace"): "installs a trace function",
    ("sys", "setprofile"): "installs a profile function",
    ("sys", "addaudithook"): "adds an audit hook",
    ("sys", "modules"): "touches sys.modules",
    ("sys", "meta_path"): "touches the import system (sys.meta_path)",
    ("sys", "path_hooks"): "touches the import system (sys.path_hooks)",
    ("inspect", "currentframe"): "inspects the call stack (inspect.currentframe)",
    ("inspect", "stack"): "inspects the call stack (inspect.stack)",
    ("inspect", "getouterframes"): "inspects the call stack (inspect.getouterframes)",
    ("inspect", "getsource"): "reads source code (inspect.getsource)",
    ("inspect", "getsourcelines"): "reads source code (inspect.getsourcelines)",
    ("inspect", "getfile"): "locates source files (inspect.getfile)",
    ("gc", "get_objects"): "searches the garbage collector (gc.get_objects)",
    ("gc", "get_referrers"): "searches the garbage collector (gc.get_referrers)",
    ("gc", "get_referents"): "searches the garbage collector (gc.get_referents)",
    ("threading", "settrace"): "installs a trace function",
    ("importlib", "reload"): "reloads modules (importlib.reload)",
    ("os", "system"): "runs shell commands (os.system)",
    ("os", "popen"): "runs shell commands (os.popen)",
    ("os", "kill"): "sends signals to processes (os.kill)",
    ("os", "killpg"): "sends signals to processes (os.killpg)",
    ("os", "_exit"): "ends the kernel process (os._exit)",
    ("os", "abort"): "ends the kernel process (os.abort)",
    ("os", "fork"): "forks the kernel process",
    ("tf", "io"): "uses TensorFlow's file API (tf.io)",
    ("tensorflow", "io"): "uses TensorFlow's file API (tf.io)",
}
FRAME_ATTRS = {
    "f_back": "walks the call stack (f_back)",
    "f_locals": "reads another frame's variables (f_locals)",
    "f_globals": "reads another frame's globals (f_globals)",
    "tb_frame": "reads traceback frames",
    "gi_frame": "reads generator frames",
    "__globals__": "reads a function's globals (__globals__)",
    "__closure__": "reads a function's closure (__closure__)",
    "__code__": "reads or replaces code objects (__code__)",
    "__file__": "locates module files (__file__)",
}
IPYTHON_ATTRS = {
    "input_transformers_post",
    "input_transformers_cleanup",
    "ast_transformers",
    "set_custom_exc",
    "showtraceback",
    "_showtraceback",
    "run_cell",
    "run_cell_async",
    "run_ast_nodes",
    "run_code",
    "input_transformer_manager",
    "CustomTB",
    "custom_exceptions",
    "showsyntaxerror",
}
FORBIDDEN_MODULES = {
    "ctypes": "loads C code (ctypes)",
    "subprocess": "starts processes (subprocess)",
    "gc": None,
    "inspect": None,
    "signal": "handles or sends signals (signal)",
    "builtins": "imports the builtins module",
    "multiprocessing": "starts processes (multiprocessing)",
    "pty": "starts processes (pty)",
    "sqlite3": "opens databases (sqlite3)",
}
DYNAMIC = {
    "exec": "runs code built at run time (exec)",
    "eval": "runs code built at run time (eval)",
    "compile": "compiles code at run time (compile)",
    "__import__": "imports by name (__import__)",
    "setattr": None,
    "delattr": None,
    "globals": None,
    "vars": None,
}


def _dotted(node: ast.AST) -> list[str]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython":
        parts.append("get_ipython()")
        return parts[::-1]
    return []


class _Scanner(ast.NodeVisitor):
    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases
        self.found: list[tuple[int, str]] = []

    def add(self, node: ast.AST, message: str) -> None:
        self.found.append((getattr(node, "lineno", 0), message))

    def module_of(self, name: str) -> str | None:
        return self.aliases.get(name)

    # imports define aliases; some modules are a finding in themselves
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.aliases[alias.asname or alias.name.split(".")[0]] = (
                alias.name if alias.asname else alias.name.split(".")[0]
            )
            top = alias.name.split(".")[0]
            if FORBIDDEN_MODULES.get(top):
                self.add(node, FORBIDDEN_MODULES[top])
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        top = module.split(".")[0]
        for alias in node.names:
            name = alias.asname or alias.name
            if alias.name in TEST_HELPERS and alias.asname and alias.asname != alias.name:
                self.add(node, f"imports the test helper {alias.name} under another name")
            self.aliases[name] = f"{module}.{alias.name}"
            if (top, alias.name) in INTROSPECTION:
                self.add(node, INTROSPECTION[(top, alias.name)])
        if FORBIDDEN_MODULES.get(top):
            self.add(node, FORBIDDEN_MODULES[top])
        self.generic_visit(node)

    # replacing things
    def _check_target(self, target: ast.AST, node: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._check_target(element, node)
            return
        if isinstance(target, ast.Attribute):
            parts = _dotted(target)
            if parts and parts[0] == "get_ipython()":
                self.add(node, f"changes IPython's {'.'.join(parts[1:])}")
            elif parts and self.module_of(parts[0]) and len(parts) >= 2:
                self.add(node, f"replaces {self.module_of(parts[0])}.{'.'.join(parts[1:])}")
            elif parts and parts[-1] in FAKE_DUNDERS | {"__code__", "__class__"}:
                self.add(node, f"assigns {parts[-1]}")
        elif isinstance(target, ast.Subscript):
            parts = _dotted(target.value)
            if parts[-2:] == ["sys", "modules"] or parts == ["__builtins__"] or parts[-1:] == ["__dict__"]:
                self.add(node, f"assigns into {'.'.join(parts)}")
        elif isinstance(target, ast.Name):
            if isinstance(node, ast.Assign) and not isinstance(node.value, (ast.Name, ast.Attribute)):
                self.aliases.pop(target.id, None)  # `data = load()` makes `data` the learner's own object
            if target.id in TEST_HELPERS:
                self.add(node, f"redefines the test helper {target.id}")
            elif target.id in SHADOWED_BUILTINS and isinstance(getattr(node, "value", None), ast.Lambda):
                self.add(node, f"redefines the built-in {target.id}")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_target(target, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._check_target(node.target, node)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._check_target(target, node)
        self.generic_visit(node)

    def _check_definition(self, node: ast.AST, name: str) -> None:
        if name in TEST_HELPERS:
            self.add(node, f"redefines the test helper {name}")
        elif name in SHADOWED_BUILTINS:
            self.add(node, f"redefines the built-in {name}")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check_definition(node, node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._check_definition(node, node.name)
        for item in node.body:
            names = (
                [item.name]
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                else [t.id for t in getattr(item, "targets", []) if isinstance(t, ast.Name)]
            )
            for name in names:
                if name in FAKE_DUNDERS:
                    self.add(item, f"defines {name} in class {node.name} (a value that fakes comparisons or numbers)")
        self.generic_visit(node)

    # calls and attributes
    def visit_Call(self, node: ast.Call) -> None:
        parts = _dotted(node.func)
        if len(parts) == 1 and parts[0] in DYNAMIC:
            name = parts[0]
            if name in ("setattr", "delattr") and node.args:
                target = _dotted(node.args[0])
                if target and (self.module_of(target[0]) or target[0] == "get_ipython()"):
                    self.add(node, f"{name} on {'.'.join(target)}")
            elif DYNAMIC[name]:
                self.add(node, DYNAMIC[name])
        if len(parts) >= 2 and parts[0] == "get_ipython()" and parts[1] == "system":
            self.add(node, "runs shell commands (!command)")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts = _dotted(node)
        if len(parts) >= 2:
            module = (self.module_of(parts[0]) or parts[0]).split(".")[-1]
            key = (module, parts[1])
            if key in INTROSPECTION:
                self.add(node, INTROSPECTION[key])
            if parts[0] == "get_ipython()" and parts[1] in IPYTHON_ATTRS:
                self.add(node, f"uses IPython's {parts[1]}, which can rewrite or hide later cells")
        if node.attr in FRAME_ATTRS and not (node.attr == "__file__" and parts[:1] == ["__file__"]):
            self.add(node, FRAME_ATTRS[node.attr])
        if (
            node.attr in IPYTHON_ATTRS
            and (not parts or parts[0] != "get_ipython()")
            and node.attr not in {"run_cell", "run_code"}
        ):
            self.add(node, f"uses IPython's {node.attr}, which can rewrite or hide later cells")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            low = node.value.lower()
            for word in TELLING_STRINGS:
                if word in low:
                    self.add(node, f"names course files ({word!r} in a string)")
                    break
            if low in FAKE_DUNDERS:
                self.add(node, f"names {low} in a string")

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self.generic_visit(node)


def _python_source(source: str) -> str:
    """IPython syntax (magics, !shell) as plain Python, so that ast can read it."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # fall back to the raw text
        return source


def learner_cells(nb: NotebookNode) -> list[tuple[str, NotebookNode]]:
    """(label, cell) for every code cell whose code is the learner's: answer cells and cells they added."""
    out = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta:
            out.append((f"added cell {index + 1}", cell))
        elif meta.get("solution"):
            out.append((str(meta.get("grade_id") or f"cell {index + 1}"), cell))
    return out


def scan_notebook(nb: NotebookNode) -> list[str]:
    """Findings as "cell 'label' line N: what" (empty for an honest notebook)."""
    aliases = dict(MODULE_ALIASES)
    findings: list[str] = []
    for label, cell in learner_cells(nb):
        source = cell.get("source", "")
        try:
            tree = ast.parse(_python_source(source))
        except SyntaxError:
            continue  # it will fail when it runs; nothing to read here
        scanner = _Scanner(aliases)
        scanner.visit(tree)
        for line, message in scanner.found:
            text = f"cell '{label}' line {line}: {message}"
            if text not in findings:
                findings.append(text)
    return findings


def scan_file(path: Path) -> list[str]:
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # an unreadable notebook is reported by the driver, not here
        return []
    return [f"{path.name}: {finding}" for finding in scan_notebook(nb)]
