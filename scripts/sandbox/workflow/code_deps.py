"""The source files a script runs: the script and the workflow's modules it imports, transitively.

Rules list these as inputs (rules/common.smk, `code=`), so editing a shared module reruns the jobs
whose scripts import it, and only those. The scan is static (ast): every import statement, also
those inside functions, resolved against scripts/ (the jobs' PYTHONPATH; a script outside it: its folder),
and every string constant that names an existing .py file of the workflow (Data-Juicer loads custom
operators by path). Installed packages are not followed: the conda envs pin those.
"""

import ast
import functools
import os
import re
from pathlib import Path

PYTHON_PATH = re.compile(r"[\w./-]+\.py")


@functools.cache
def code_files(script: str, workdir: Path) -> tuple[str, ...]:
    """script (a path relative to workdir, as the rule's shell line runs it) and every workflow file
    it imports or names, transitively: sorted paths relative to workdir."""
    workdir = workdir.resolve()
    entry = Path(os.path.normpath(workdir / script))
    if not entry.is_file():
        raise FileNotFoundError(f"{script}: no such script in {workdir} (a rule's code input)")
    # jobs import the package from scripts/ (PYTHONPATH), whichever file of it a rule names
    scripts = workdir / "scripts"
    import_root = scripts if entry.is_relative_to(scripts) else entry.parent
    seen: set[Path] = set()
    pending = [entry]
    while pending:
        path = pending.pop()
        if path not in seen:
            seen.add(path)
            pending += local_dependencies(path, import_root, workdir)
    return tuple(sorted(str(path.relative_to(workdir)) for path in seen))


@functools.cache
def local_dependencies(path: Path, import_root: Path, workdir: Path) -> tuple[Path, ...]:
    """The workflow files one source file imports or names by path (one step, not transitively)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError:
        return ()  # the job that runs it reports the error; the file itself is still an input
    found: list[Path] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found += module_files(alias.name.split("."), import_root)
        elif isinstance(node, ast.ImportFrom):
            base = import_root if node.level == 0 else path.parents[node.level - 1]
            parts = node.module.split(".") if node.module else []
            found += module_files(parts, base)
            for alias in node.names:  # `from package import module` imports a file too
                found += module_files([*parts, alias.name], base)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += named_file(node.value, workdir)
    return tuple(found)


def module_files(parts: list[str], base: Path) -> list[Path]:
    """The files `import a.b.c` (parts a, b, c) runs from base: each package's __init__.py and the
    module; nothing for a module that is not in base (the standard library, installed packages)."""
    files: list[Path] = []
    folder = base
    for part in parts:
        package, module = folder / part, folder / f"{part}.py"
        if (package / "__init__.py").is_file():
            files.append(package / "__init__.py")
            folder = package
        elif module.is_file():
            files.append(module)
            break  # what follows names an attribute of the module
        elif package.is_dir():
            folder = package  # a namespace package: no file of its own
        else:
            break
    return files


def named_file(text: str, workdir: Path) -> list[Path]:
    """The workflow's .py file a string constant names (e.g. a custom operator path), if any."""
    if not PYTHON_PATH.fullmatch(text):
        return []
    path = Path(os.path.normpath(workdir / text))
    return [path] if path.is_relative_to(workdir) and path.is_file() else []
