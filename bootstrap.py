"""Set up smbcrm from a clean clone and start it, or run the whole check.

    python3 bootstrap.py [ARGS...]        set up .venv, then start smbcrm (ARGS go to smbcrm)
    python3 bootstrap.py test [ARGS...]   set up .venv with the test tools, then run
                                          ruff, mypy and pytest (ARGS go to pytest)

On Windows use ``py`` instead of ``python3``. Needs only Python 3.11+ (standard library).
The virtualenv lives in ``.venv`` beside this file and is reinstalled only when
pyproject.toml (or the set of extras needed) changes.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

MIN_PYTHON = (3, 11)

if sys.version_info < MIN_PYTHON:
    sys.exit(
        "smbcrm needs Python {}.{} or newer, but this is Python {}.{} ({}); "
        "install a newer Python from python.org and run this script with it.".format(
            *MIN_PYTHON, *sys.version_info[:2], sys.executable
        )
    )

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
MARKER = VENV / "smbcrm-bootstrap.json"
WINDOWS = os.name == "nt"


def say(message: str) -> None:
    """One short progress line."""
    print(f"[bootstrap] {message}", flush=True)


def venv_bin() -> Path:
    """The venv's scripts folder (``Scripts`` on Windows, ``bin`` elsewhere)."""
    preferred = VENV / ("Scripts" if WINDOWS else "bin")
    other = VENV / ("bin" if WINDOWS else "Scripts")
    return other if not preferred.exists() and other.exists() else preferred


def venv_python() -> Path:
    return venv_bin() / ("python.exe" if WINDOWS else "python")


def venv_env() -> dict[str, str]:
    """The environment for commands run inside the venv (as if it were activated)."""
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = str(venv_bin()) + os.pathsep + env.get("PATH", "")
    return env


def run(args: list[str | Path], env: dict[str, str] | None = None) -> int:
    """Run a command from the repository root and return its exit code."""
    try:
        return subprocess.call([str(a) for a in args], cwd=ROOT, env=env or venv_env())
    except OSError as exc:
        say(f"Could not run {args[0]}: {exc}")
        return 127


def venv_python_version() -> tuple[int, int] | None:
    """The (major, minor) version of the venv's interpreter, or None if it cannot run."""
    python = venv_python()
    if not python.exists():
        return None
    try:
        out = subprocess.run(
            [str(python), "-c", "import sys; print('%d %d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def venv_missing_message() -> str:
    """What to install when this Python cannot make virtualenvs (Debian/Ubuntu's python3)."""
    version = "{}.{}".format(*sys.version_info[:2])
    return (
        f"This Python cannot create virtual environments (its ensurepip is missing). "
        f"On Debian/Ubuntu install the package python{version}-venv "
        f"(sudo apt install python{version}-venv), then run this again."
    )


def create_venv() -> bool:
    """Create (or recreate) .venv with the interpreter running this script."""
    say("Setting up .venv (first run only)…")
    result = subprocess.run(
        [sys.executable, "-m", "venv", "--clear", str(VENV)],
        capture_output=True,
        text=True,
    )
    output = (result.stdout or "") + (result.stderr or "")
    if result.returncode != 0 or not venv_python().exists():
        shutil.rmtree(VENV, ignore_errors=True)
        if "ensurepip" in output:
            say(venv_missing_message())
        else:
            sys.stderr.write(output)
            say(f"Could not create {VENV} with {sys.executable}.")
        return False
    return True


def ensure_venv() -> bool:
    """Make sure .venv exists and runs a recent enough Python; recreate it if not."""
    version = venv_python_version()
    if version is not None and version >= MIN_PYTHON:
        return True
    if version is not None:
        say(f".venv was made with Python {version[0]}.{version[1]}; recreating it.")
    elif VENV.exists():
        say(".venv is incomplete or broken; recreating it.")
    return create_venv()


def wanted_state(extras: list[str]) -> dict[str, object]:
    """What the marker records: a hash of pyproject.toml and the extras installed."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    return {"pyproject_sha256": digest, "extras": sorted(extras)}


def is_installed(extras: list[str]) -> bool:
    """True when the marker says this pyproject.toml was installed with these extras."""
    try:
        state = json.loads(MARKER.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = wanted_state(extras)
    have = state.get("extras", []) if isinstance(state, dict) else []
    return (
        isinstance(state, dict)
        and state.get("pyproject_sha256") == wanted["pyproject_sha256"]
        and set(extras) <= set(have)
    )


def install(extras: list[str]) -> bool:
    """``pip install -e .[extras]`` into .venv, unless nothing changed since last time."""
    if is_installed(extras):
        return True
    MARKER.unlink(missing_ok=True)  # an interrupted install must be redone next time
    python = venv_python()
    quiet = [] if sys.stdout.isatty() else ["--quiet"]
    say("Updating pip…")
    if run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"]) != 0:
        say("Could not update pip (offline?); carrying on with the one in .venv.")
    target = "." + (f"[{','.join(extras)}]" if extras else "")
    say(f"Installing smbcrm{target[1:]} and its dependencies (a few minutes the first time)…")
    code = run(
        [python, "-m", "pip", "install", "--disable-pip-version-check", *quiet, "-e", target]
    )
    if code != 0:
        say(f"Installing dependencies failed (pip exit code {code}); see pip's message above.")
        return False
    MARKER.write_text(json.dumps(wanted_state(extras)), encoding="utf-8")
    return True


def set_up(extras: list[str]) -> None:
    """Create .venv if needed and install smbcrm into it; exit with a message on failure."""
    if not ensure_venv() or not install(extras):
        sys.exit(1)


def start_app(args: list[str]) -> int:
    """Start smbcrm from .venv, passing ``args`` through."""
    script = venv_bin() / ("smbcrm.exe" if WINDOWS else "smbcrm")
    command: list[str | Path] = [script] if script.exists() else [venv_python(), "-m", "smbcrm"]
    return run([*command, *args])


def has_display() -> bool:
    if WINDOWS or sys.platform == "darwin":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_checks(pytest_args: list[str]) -> int:
    """ruff on the repository, mypy on the package, then pytest; non-zero if any fails."""
    python = venv_python()
    env = venv_env()
    if not has_display():
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    steps: list[tuple[str, list[str | Path]]] = [
        ("ruff", [python, "-m", "ruff", "check", "."]),
        ("mypy", [python, "-m", "mypy"]),  # packages = ["smbcrm"] in pyproject.toml
        ("pytest", [python, "-m", "pytest", *pytest_args]),
    ]
    failed: list[str] = []
    for name, command in steps:
        say(f"Running {name}…")
        code = run(command, env=env)
        if code == 5 and name == "pytest":
            say("pytest collected no tests; that counts as a failure.")
        if code != 0:
            say(f"FAILED: {name} (exit code {code})")
            failed.append(name)
    if failed:
        say(f"Check failed in: {', '.join(failed)}.")
        return 1
    say("All checks passed: ruff, mypy, pytest.")
    return 0


def main(argv: list[str]) -> int:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")  # e.g. "…" on a legacy Windows code page
    try:
        if argv[:1] == ["test"]:
            set_up(["test"])
            return run_checks(argv[1:])
        set_up([])
        return start_app(argv)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
