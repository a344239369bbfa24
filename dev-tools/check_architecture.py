#!/usr/bin/env python3
"""The architecture check of `./dev test` (issue 10, item 7). It reads the Rust sources and
fails when

  1. a module of api/src imports a layer it must not (the table LAYERS below), or
  2. in any crate of the workspace, sibling modules import each other (a cycle between the
     children of one module: `a ↔ b`, or longer, `a → b → c → a`).

Each finding names file:line, the path as written (expanded when it is part of a `use` group),
and the rule. The summary lines say how many files and imports were read, so a pass is visibly
not vacuous.

What counts as an import: every path of a `use` declaration (`use crate::{a, b::c}` is two), and
every path in code, types and attributes that starts with `crate::`, `$crate::`, `self::`,
`super::` (chains resolved to the module they name), the library's crate name (for `main.rs`),
a child module of the current module, or a module imported by `use` (`use crate::db;` then
`db::x::y()`). A path goes to the deepest module it names, through `pub use` re-exports.
Comments (doc comments too) and string literals are ignored. Not seen: names reached through a
glob import (`use super::*;` counts once, as an import of that module), `#[path]` attributes
and code that macros generate.

Test code is not checked: items under `#[cfg(test)]` (the `mod tests` blocks and `mod tests;`
files) may arrange data through any layer, as the integration tests in api/tests do, and none
of it is in the built program. Their imports are counted and shown as skipped.

Usage:
  check_architecture.py [--warn-only] [--strict CRATE]... [--root DIR]   check the workspace
  check_architecture.py --self-test                                      check the checker
--warn-only reports findings without failing, except in the crates named by --strict.
Only the standard library is needed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

# ---------------------------------------------------------------------------------------------
# The rules. Edit here.
#
# Layer → (path prefixes under api/src, layers it may import). A file belongs to the layer of its
# longest matching prefix ("routes/x.rs" before "routes/"); a file that matches none is a
# finding of its own, so a new top-level module must be placed here. Imports within a layer are
# always allowed. The intended direction (issue 10, item 1):
#   main → cli → startup → {routes, mail} → domain → db → config,
# with the leaf utilities (clock, metrics, telemetry) importing nothing above them.
# ---------------------------------------------------------------------------------------------
LAYERS: dict[str, tuple[list[str], list[str]]] = {
    # The binary: parses the command line and hands over; logging starts before anything else.
    "main": (["main.rs"], ["cli", "telemetry"]),
    # The library's root only declares the modules.
    "lib": (["lib.rs"], []),
    # Commands: serve, ledger import, demo data. Opens storage (db) for the commands that run
    # without the server; every rule is domain's.
    "cli": (["cli.rs"], ["startup", "domain", "db", "config", "telemetry", "clock"]),
    # Wires everything together: the one place that sees every layer.
    "startup": (
        ["startup.rs"],
        ["routes", "mail", "domain", "db", "config", "error", "metrics", "telemetry", "clock"],
    ),
    # HTTP handlers: read the request, call one domain function, map the answer.
    "routes": (["routes/"], ["domain", "config", "error", "metrics", "telemetry", "clock"]),
    # ApiError: the HTTP form of the lower layers' errors.
    "error": (["error.rs"], ["domain", "config", "telemetry"]),
    # The delivery driver beside routes: outbox worker and transports. Like routes, it reaches
    # storage only through domain (domain::outbox).
    "mail": (["mail/"], ["domain", "config", "metrics", "clock"]),
    # Rules and the state machine; reaches storage through db.
    "domain": (["domain/"], ["db", "config", "metrics", "clock"]),
    # Storage: schema, rows, the connection; its own row types or shared's, never domain's.
    "db": (["db/"], ["config"]),
    # Settings, the generated secret key included.
    "config": (["config.rs"], []),
    # Leaf utilities.
    "clock": (["clock.rs"], []),
    "metrics": (["metrics.rs"], []),
    "telemetry": (["telemetry.rs"], ["metrics"]),
}

# The directory whose files LAYERS places.
LAYERED_DIR = "api/src"


@dataclass(frozen=True)
class CrateSpec:
    """One crate of the workspace: its root file and the other crates it may name by path."""

    name: str
    root: str
    # Crate names used in paths (`reissue_api::cli`) → the CrateSpec.name they denote.
    externs: dict[str, str] = field(default_factory=dict)


CRATES = [
    CrateSpec("api", "api/src/lib.rs"),
    CrateSpec("api/main", "api/src/main.rs", {"reissue_api": "api"}),
    CrateSpec("shared", "shared/src/lib.rs"),
    CrateSpec("web", "web/src/lib.rs"),
    CrateSpec("web/main", "web/src/main.rs", {"reissue_web": "web"}),
    CrateSpec("web/console", "web/src/bin/console.rs", {"reissue_web": "web"}),
    CrateSpec("e2e", "e2e/src/lib.rs"),
    CrateSpec("e2e/bench", "e2e/src/bin/bench/main.rs", {"reissue_e2e": "e2e"}),
]

# ---------------------------------------------------------------------------------------------
# Reading Rust: a lexer that drops comments and literals, then a scan for modules and paths.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # "id", "punct", "lit" (a literal, content dropped) or "life" (a lifetime)
    text: str
    line: int


def _is_ident_start(c: str) -> bool:
    return c == "_" or c.isalpha()


def _is_ident_char(c: str) -> bool:
    return c == "_" or c.isalnum()


def tokenize(src: str) -> list[Token]:
    """Rust tokens with comments, strings and chars dropped (a string becomes one "lit")."""
    tokens: list[Token] = []
    i, n, line = 0, len(src), 1

    def skip_quoted(j: int) -> int:
        """From just after an opening `"`, the index after the closing one (escapes honoured)."""
        nonlocal line
        while j < n:
            c = src[j]
            if c == "\\":
                if j + 1 < n and src[j + 1] == "\n":
                    line += 1
                j += 2
                continue
            if c == "\n":
                line += 1
            if c == '"':
                return j + 1
            j += 1
        return n

    def skip_raw(j: int) -> int:
        """From the `#`s or `"` after `r`, the index after the raw string's end."""
        nonlocal line
        hashes = 0
        while j < n and src[j] == "#":
            hashes += 1
            j += 1
        j += 1  # the opening quote
        closing = '"' + "#" * hashes
        end = src.find(closing, j)
        end = n if end < 0 else end + len(closing)
        line += src.count("\n", j, end)
        return end

    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif src.startswith("//", i):
            end = src.find("\n", i)
            i = n if end < 0 else end
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    if src[j] == "\n":
                        line += 1
                    j += 1
            i = j
        elif c == '"':
            start_line = line
            i = skip_quoted(i + 1)
            tokens.append(Token("lit", '""', start_line))
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}') or a lifetime / label ('a, 'static).
            if i + 1 < n and src[i + 1] == "\\":
                j = i + 2
                if src.startswith("u{", j):
                    j = src.find("}", j) + 1
                else:
                    j += 1
                i = src.find("'", j) + 1 if src.find("'", j) >= 0 else n
                tokens.append(Token("lit", "''", line))
            elif i + 2 < n and src[i + 2] == "'":
                if src[i + 1] == "\n":
                    line += 1
                i += 3
                tokens.append(Token("lit", "''", line))
            else:
                j = i + 1
                while j < n and _is_ident_char(src[j]):
                    j += 1
                tokens.append(Token("life", src[i:j], line))
                i = j
        elif _is_ident_start(c):
            # String and char prefixes first: r"", r#""#, b"", br"", c"", cr"", b''.
            for prefix in ("br", "cr", "r", "b", "c"):
                if src.startswith(prefix, i):
                    after = i + len(prefix)
                    if prefix.endswith("r") and after < n and src[after] in '#"':
                        # r#ident is a raw identifier, not a raw string.
                        k = after
                        while k < n and src[k] == "#":
                            k += 1
                        if k < n and src[k] == '"':
                            start_line = line
                            i = skip_raw(after)
                            tokens.append(Token("lit", '""', start_line))
                            break
                    elif prefix in ("b", "c") and after < n and src[after] == '"':
                        start_line = line
                        i = skip_quoted(after + 1)
                        tokens.append(Token("lit", '""', start_line))
                        break
                    elif prefix == "b" and after < n and src[after] == "'":
                        end = src.find("'", after + 3 if src[after + 1] == "\\" else after + 2)
                        i = n if end < 0 else end + 1
                        tokens.append(Token("lit", "''", line))
                        break
            else:
                if src.startswith("r#", i) and i + 2 < n and _is_ident_start(src[i + 2]):
                    i += 2  # raw identifier: r#type is the identifier `type`
                j = i
                while j < n and _is_ident_char(src[j]):
                    j += 1
                tokens.append(Token("id", src[i:j], line))
                i = j
        elif c.isdigit():
            j = i + 1
            while j < n and (
                _is_ident_char(src[j]) or (src[j] == "." and j + 1 < n and src[j + 1].isdigit())
            ):
                j += 1
            tokens.append(Token("lit", "0", line))
            i = j
        elif src.startswith("::", i):
            tokens.append(Token("punct", "::", line))
            i += 2
        else:
            tokens.append(Token("punct", c, line))
            i += 1
    return tokens


@dataclass
class ModDecl:
    """`mod name;` (a file) or `mod name { … }` (inline) inside module `parent`."""

    parent: tuple[str, ...]
    name: str
    inline: bool
    test: bool


@dataclass
class PathRef:
    """A path as written, in module `module` of the file, from a `use` or from code."""

    module: tuple[str, ...]
    segments: tuple[str, ...]
    line: int
    test: bool
    from_use: bool
    public_use: bool = False  # a `pub use`: a re-export
    glob: bool = False  # `use a::*`
    alias: Optional[str] = None  # the name a `use` brings into scope (`as` or the last segment)


@dataclass
class FileScan:
    mods: list[ModDecl]
    refs: list[PathRef]


_PATH_KEYWORDS = {"crate", "self", "super"}
_NOT_A_MODULE = {"Self", "std", "core", "alloc"}


def scan(tokens: list[Token], file_module: tuple[str, ...], test: bool = False) -> FileScan:
    """Module declarations and paths of one file whose module path is `file_module` (`test`:
    declared under `#[cfg(test)]`)."""
    mods: list[ModDecl] = []
    refs: list[PathRef] = []
    # Scopes opened by `{`: (module path, test-only, open brackets within the scope).
    scopes: list[list] = [[file_module, test, 0]]
    pending_test = False
    pending_pub = False
    i, n = 0, len(tokens)

    def tok(k: int) -> Optional[Token]:
        return tokens[k] if 0 <= k < n else None

    def is_p(k: int, text: str) -> bool:
        t = tok(k)
        return t is not None and t.kind == "punct" and t.text == text

    def is_id(k: int, text: Optional[str] = None) -> bool:
        t = tok(k)
        return t is not None and t.kind == "id" and (text is None or t.text == text)

    def matching(k: int, open_: str, close: str) -> int:
        """Index of the bracket closing the one at k."""
        depth = 0
        while k < n:
            if is_p(k, open_):
                depth += 1
            elif is_p(k, close):
                depth -= 1
                if depth == 0:
                    return k
            k += 1
        return n - 1

    def parse_use_tree(k: int, prefix: tuple[str, ...], out: list) -> int:
        """Parses one use tree from k; appends (segments, glob, alias, line); returns the end."""
        segs = list(prefix)
        if is_p(k, "::"):  # `use ::std::x`: an external crate
            segs.append("::")
            k += 1
        while k < n:
            t = tokens[k]
            if is_p(k, "$") and is_id(k + 1, "crate"):
                segs.append("$crate")
                k += 2
            elif t.kind == "id":
                segs.append(t.text)
                k += 1
            elif is_p(k, "*"):
                out.append((tuple(segs), True, None, t.line))
                return k + 1
            elif is_p(k, "{"):
                end = matching(k, "{", "}")
                k += 1
                while k < end:
                    if is_p(k, ","):
                        k += 1
                        continue
                    k = parse_use_tree(k, tuple(segs), out)
                return end + 1
            else:
                return k + 1
            if is_p(k, "::"):
                k += 1
                continue
            alias = None
            if is_id(k, "as") and tok(k + 1) is not None:
                alias = tokens[k + 1].text
                k += 2
            if segs and segs[-1] == "self":  # `use a::{self}` names `a`
                segs.pop()
            out.append((tuple(segs), False, alias or (segs[-1] if segs else None), t.line))
            return k
        return k

    while i < n:
        t = tokens[i]
        scope = scopes[-1]
        module, in_test = scope[0], scope[1]
        if is_p(i, "#"):
            inner = is_p(i + 1, "!")
            start = i + 2 if inner else i + 1
            if is_p(start, "["):
                end = matching(start, "[", "]")
                body = [x.text for x in tokens[start + 1 : end]]
                if body[:2] == ["cfg", "("] and "test" in body and "not" not in body:
                    if inner:
                        scope[1] = True
                    else:
                        pending_test = True
                # The attribute's own tokens are scanned too (paths in `#[utoipa::path(…)]`).
                i = start + 1
                continue
        if is_id(i, "pub"):
            pending_pub = True
            if is_p(i + 1, "("):  # pub(crate), pub(in crate::x): not an import
                i = matching(i + 1, "(", ")") + 1
            else:
                i += 1
            continue
        if is_id(i, "mod") and is_id(i + 1) and (is_p(i + 2, ";") or is_p(i + 2, "{")):
            name = tokens[i + 1].text
            test = in_test or pending_test
            if is_p(i + 2, ";"):
                mods.append(ModDecl(module, name, False, test))
                i += 3
            else:
                mods.append(ModDecl(module, name, True, test))
                scopes.append([module + (name,), test, 0])
                i += 3
            pending_test = pending_pub = False
            continue
        if is_id(i, "use"):
            out: list = []
            k = parse_use_tree(i + 1, (), out)
            while k < n and not is_p(k, ";"):
                k += 1
            for segs, glob, alias, line in out:
                refs.append(
                    PathRef(
                        module,
                        segs,
                        line,
                        in_test or pending_test,
                        True,
                        public_use=pending_pub,
                        glob=glob,
                        alias=alias,
                    )
                )
            pending_test = pending_pub = False
            i = k + 1
            continue
        if is_p(i, "{"):
            scopes.append([module, in_test or pending_test, 0])
            pending_test = pending_pub = False
        elif is_p(i, "}"):
            if len(scopes) > 1:
                scopes.pop()
            pending_test = pending_pub = False
        elif is_p(i, "(") or is_p(i, "["):
            scope[2] += 1
        elif is_p(i, ")") or is_p(i, "]"):
            scope[2] -= 1
        elif is_p(i, ";") and scope[2] <= 0:
            pending_test = pending_pub = False
        elif (t.kind == "id" or (is_p(i, "$") and is_id(i + 1, "crate"))) and not is_p(i - 1, "::"):
            # A path in code: `crate::db::x()`, `super::Foo`, `$crate::m`, `child::f()`.
            k = i
            segs: list[str] = []
            if is_p(k, "$"):
                segs.append("$crate")
                k += 2
            else:
                segs.append(t.text)
                k += 1
            if is_p(k, "::") and not is_p(i - 1, "."):
                while is_p(k, "::") and is_id(k + 1):
                    segs.append(tokens[k + 1].text)
                    k += 2
                if len(segs) > 1 and segs[0] not in _NOT_A_MODULE:
                    refs.append(
                        PathRef(module, tuple(segs), t.line, in_test or pending_test, False)
                    )
                i = k
                continue
        i += 1
    return FileScan(mods, refs)


# ---------------------------------------------------------------------------------------------
# Crates: the module tree from the `mod` declarations, and every path resolved into it.
# ---------------------------------------------------------------------------------------------


@dataclass
class Module:
    path: tuple[str, ...]
    file: str  # relative to the workspace root; for an inline module, the file holding it
    test: bool
    children: dict[str, "Module"] = field(default_factory=dict)


@dataclass
class Crate:
    spec: CrateSpec
    modules: dict[tuple[str, ...], Module]
    scans: dict[str, FileScan]  # file → its scan
    file_module: dict[str, tuple[str, ...]]  # file → the module it defines


@dataclass
class Import:
    crate: str
    file: str
    line: int
    source: tuple[str, ...]
    target_crate: str
    target: tuple[str, ...]  # the deepest module the path names
    written: str
    test: bool


Reader = Callable[[str], Optional[str]]


def load_crate(spec: CrateSpec, read: Reader) -> Crate:
    modules: dict[tuple[str, ...], Module] = {}
    scans: dict[str, FileScan] = {}
    file_module: dict[str, tuple[str, ...]] = {}

    def load(file: str, path: tuple[str, ...], test: bool) -> None:
        text = read(file)
        if text is None:
            return
        module = Module(path, file, test)
        modules[path] = module
        if path:
            modules[path[:-1]].children[path[-1]] = module
        file_scan = scan(tokenize(text), path, test)
        scans[file] = file_scan
        file_module[file] = path
        here = Path(file)
        own_dir = (
            here.parent
            if here.name in ("mod.rs", "lib.rs", "main.rs") or not path
            else here.parent / here.stem
        )
        for decl in file_scan.mods:
            child_path = decl.parent + (decl.name,)
            if decl.inline:
                child = Module(child_path, file, decl.test)
                modules[child_path] = child
                modules[decl.parent].children[decl.name] = child
                continue
            # A `mod x;` inside an inline module `a` lives in <dir>/a/x.rs.
            inline_part = decl.parent[len(path) :]
            base = own_dir.joinpath(*inline_part)
            for candidate in (base / f"{decl.name}.rs", base / decl.name / "mod.rs"):
                if read(str(candidate)) is not None:
                    load(str(candidate), child_path, decl.test)
                    break

    load(spec.root, (), False)
    return Crate(spec, modules, scans, file_module)


def resolve_all(crates: dict[str, Crate]) -> list[Import]:
    """Every path of every crate that names a module of the workspace, resolved to it."""
    # Re-exports and module aliases need resolved paths themselves: resolve lazily, memoised.
    imports: list[Import] = []
    for crate in crates.values():
        for file, file_scan in crate.scans.items():
            aliases: dict[tuple[tuple[str, ...], str], tuple[str, tuple[str, ...]]] = {}
            for ref in file_scan.refs:
                if not ref.from_use or ref.glob or not ref.alias:
                    continue
                resolved = absolute(crates, crate, ref.module, ref.segments, {})
                if resolved and tuple(resolved[1]) in crates[resolved[0]].modules:
                    aliases[(ref.module, ref.alias)] = resolved
            for ref in file_scan.refs:
                resolved = absolute(crates, crate, ref.module, ref.segments, aliases)
                if resolved is None:
                    continue
                target_crate, full = resolved
                target = deepest_module(crates, target_crate, full, 0)
                if target is None:
                    continue
                imports.append(
                    Import(
                        crate.spec.name,
                        file,
                        ref.line,
                        ref.module,
                        target[0],
                        target[1],
                        "::".join(ref.segments) + ("::*" if ref.glob else ""),
                        ref.test,
                    )
                )
    return imports


def absolute(
    crates: dict[str, Crate],
    crate: Crate,
    module: tuple[str, ...],
    segments: tuple[str, ...],
    aliases: dict,
) -> Optional[tuple[str, tuple[str, ...]]]:
    """(crate, path from its root) of a path written in `module`, or None when external."""
    if not segments:
        return None
    first, rest = segments[0], list(segments[1:])
    if first in ("crate", "$crate"):
        return crate.spec.name, tuple(rest)
    if first in ("self", "super"):
        base = list(module)
        if first == "super":
            base = base[:-1]
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
        return crate.spec.name, tuple(base + rest)
    if first in crate.spec.externs and crate.spec.externs[first] in crates:
        return crate.spec.externs[first], tuple(rest)
    here = crate.modules.get(module)
    if here is not None and first in here.children:
        return crate.spec.name, module + tuple(segments)
    if (module, first) in aliases:
        target_crate, target = aliases[(module, first)]
        return target_crate, target + tuple(rest)
    return None


def deepest_module(
    crates: dict[str, Crate], crate_name: str, path: tuple[str, ...], depth: int
) -> Optional[tuple[str, tuple[str, ...]]]:
    """The deepest module `path` names, following `pub use` re-exports of the item after it."""
    crate = crates[crate_name]
    k = 0
    while k < len(path) and path[: k + 1] in crate.modules:
        k += 1
    module = path[:k]
    if k < len(path) and depth < 8:
        name = path[k]
        owner = crate.modules[module]
        file_scan = crate.scans.get(owner.file)
        for ref in file_scan.refs if file_scan else []:
            if ref.public_use and not ref.glob and ref.module == module and ref.alias == name:
                resolved = absolute(crates, crate, module, ref.segments, {})
                if resolved is not None:
                    return deepest_module(
                        crates, resolved[0], resolved[1] + path[k + 1 :], depth + 1
                    ) or (crate_name, module)
    return crate_name, module


# ---------------------------------------------------------------------------------------------
# The checks.
# ---------------------------------------------------------------------------------------------


@dataclass
class Finding:
    crate: str
    kind: str  # "layer" or "cycle"
    message: str


def layer_of(file: str) -> Optional[str]:
    """The layer of a file under LAYERED_DIR by its longest matching prefix, or None."""
    relative = file[len(LAYERED_DIR) + 1 :] if file.startswith(LAYERED_DIR + "/") else None
    if relative is None:
        return None
    best, best_len = None, -1
    for layer, (prefixes, _) in LAYERS.items():
        for prefix in prefixes:
            if relative.startswith(prefix) and len(prefix) > best_len:
                best, best_len = layer, len(prefix)
    return best


def check_layers(crates: dict[str, Crate], imports: list[Import]) -> tuple[list[Finding], str]:
    findings: list[Finding] = []
    files = sorted(
        {f for c in crates.values() for f in c.scans if f.startswith(LAYERED_DIR + "/")}
    )
    for file in files:
        if layer_of(file) is None:
            crate = next(c.spec.name for c in crates.values() if file in c.scans)
            findings.append(
                Finding(
                    crate,
                    "layer",
                    f"{file}:1: in no layer: add its path to LAYERS in {Path(__file__).name}",
                )
            )
    checked = skipped = 0
    seen: set = set()
    for imp in imports:
        if not imp.file.startswith(LAYERED_DIR + "/"):
            continue
        if imp.test:
            skipped += 1
            continue
        checked += 1
        source_layer = layer_of(imp.file)
        target_file = crates[imp.target_crate].modules[imp.target].file
        target_layer = layer_of(target_file)
        if source_layer is None or target_layer is None or source_layer == target_layer:
            continue
        allowed = LAYERS[source_layer][1]
        if target_layer in allowed:
            continue
        key = (imp.file, imp.line, imp.written)
        if key in seen:
            continue
        seen.add(key)
        may = ", ".join(allowed) if allowed else "nothing else in the crate"
        findings.append(
            Finding(
                imp.crate,
                "layer",
                f"{imp.file}:{imp.line}: `{imp.written}`: {source_layer} must not import "
                f"{target_layer} ({source_layer} may import: {may})",
            )
        )
    summary = (
        f"layers ({LAYERED_DIR}): {len(files)} files, {checked} imports checked "
        f"({skipped} in #[cfg(test)] code not checked), {len(findings)} violations"
    )
    return findings, summary


def strongly_connected(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return result


def shortest_cycle(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the component's first node, as a node list ending where it began."""
    start = component[0]
    members = set(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(edges.get(v, ())):
                if w not in members:
                    continue
                if w == start:
                    cycle = [v]
                    while cycle[-1] != start:
                        cycle.append(previous[cycle[-1]])
                    return [start] + cycle[::-1][1:] + [start]
                if w not in previous:
                    previous[w] = v
                    following.append(w)
        frontier = following
    return component + [start]


def check_cycles(
    crates: dict[str, Crate], imports: list[Import]
) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    summaries = []
    for crate in crates.values():
        name = crate.spec.name
        # (parent module, child a, child b) → first import that makes a depend on b.
        evidence: dict[tuple, Import] = {}
        counted = 0
        for imp in imports:
            if imp.crate != name or imp.target_crate != name or imp.test:
                continue
            counted += 1
            source, target = imp.source, imp.target
            common = 0
            while common < min(len(source), len(target)) and source[common] == target[common]:
                common += 1
            if common == len(source) or common == len(target):
                continue  # a module and its own ancestor or descendant
            key = (source[:common], source[common], target[common])
            evidence.setdefault(key, imp)
        parents: dict[tuple, dict[str, set[str]]] = {}
        for parent, a, b in evidence:
            parents.setdefault(parent, {}).setdefault(a, set()).add(b)
        cycles = 0
        for parent, edges in sorted(parents.items()):
            nodes = sorted(set(edges) | {b for bs in edges.values() for b in bs})
            prefix = "::".join(parent) + "::" if parent else ""
            for component in strongly_connected(nodes, edges):
                # Every pair importing each other, then a shortest cycle through each module
                # that is in no such pair.
                found = [
                    [a, b, a]
                    for a in component
                    for b in component
                    if a < b and b in edges.get(a, ()) and a in edges.get(b, ())
                ]
                covered = {m for cycle in found for m in cycle}
                for module in component:
                    if module not in covered:
                        cycle = shortest_cycle([module] + component, edges)
                        covered.update(cycle)
                        found.append(cycle)
                for cycle in found:
                    cycles += 1
                    shown = " → ".join(prefix + m for m in cycle)
                    lines = [f"{name}: modules import each other: {shown}"]
                    for a, b in zip(cycle, cycle[1:]):
                        imp = evidence[(parent, a, b)]
                        lines.append(f"    {imp.file}:{imp.line}: `{imp.written}` ({a} → {b})")
                    findings.append(Finding(name, "cycle", "\n".join(lines)))
        summaries.append(
            f"{name}: {len(crate.scans)} files, {counted} imports within the crate, {cycles} cycles"
        )
    return findings, summaries


def run(
    read: Reader, crate_specs: list[CrateSpec], list_imports: bool = False
) -> tuple[list[Finding], list[str]]:
    crates = {spec.name: load_crate(spec, read) for spec in crate_specs}
    crates = {name: crate for name, crate in crates.items() if crate.modules}
    imports = resolve_all(crates)
    if list_imports:
        for imp in imports:
            target = imp.target_crate + "::" + "::".join(imp.target)
            test = " (test)" if imp.test else ""
            print(f"{imp.file}:{imp.line}: {imp.written} → {target}{test}")
    layer_findings, layer_summary = check_layers(crates, imports)
    cycle_findings, cycle_summaries = check_cycles(crates, imports)
    summary = [layer_summary, "cycles between sibling modules:"] + [
        "  " + s for s in cycle_summaries
    ]
    return layer_findings + cycle_findings, summary


# ---------------------------------------------------------------------------------------------
# The self-test: small crates in memory, each with a known finding (or none).
# ---------------------------------------------------------------------------------------------


def self_test() -> int:
    api = [
        CrateSpec("api", "api/src/lib.rs"),
        CrateSpec("api/main", "api/src/main.rs", {"reissue_api": "api"}),
    ]
    lib = "pub mod cli; pub mod config; pub mod db; pub mod domain; pub mod routes;\n"
    base = {
        "api/src/lib.rs": lib,
        "api/src/main.rs": "fn main() { reissue_api::cli::run(); }\n",
        "api/src/cli.rs": "use crate::domain::Context;\npub fn run() {}\n",
        "api/src/config.rs": "pub struct Settings;\n",
        "api/src/db/mod.rs": "pub mod rows;\nuse crate::config::Settings;\n",
        "api/src/db/rows.rs": "pub struct Row;\n",
        "api/src/domain/mod.rs": (
            "pub mod application;\npub use application::Application;\npub struct Context;\n"
        ),
        "api/src/domain/application.rs": "use crate::db::rows::Row;\npub struct Application;\n",
        "api/src/routes/mod.rs": "use crate::domain::{self, Context};\n",
    }

    def findings_for(changes: dict[str, str], kind: str) -> list[str]:
        files = dict(base)
        files.update(changes)
        found, summary = run(files.get, api)
        assert "violations" in summary[0], summary
        return [f.message for f in found if f.kind == kind]

    cases: list[tuple[str, dict[str, str], list[str]]] = [
        ("a clean tree has no finding", {}, []),
        (
            "db importing domain",
            {"api/src/db/rows.rs": "use crate::config::Settings;\nuse crate::domain::Application;"},
            ["api/src/db/rows.rs:2: `crate::domain::Application`: db must not import domain"],
        ),
        (
            "a use group, expanded",
            {"api/src/db/rows.rs": "use crate::{config::S, domain::{Context, application::X}};"},
            [
                "api/src/db/rows.rs:1: `crate::domain::Context`: db must not import domain",
                "api/src/db/rows.rs:1: `crate::domain::application::X`: db must not import domain",
            ],
        ),
        (
            "a super:: chain",
            {"api/src/db/rows.rs": "fn f() { let _ = super::super::routes::handler(); }\n"},
            ["api/src/db/rows.rs:1: `super::super::routes::handler`: db must not import routes"],
        ),
        (
            "a fully qualified path in an expression, in a function body",
            {"api/src/domain/application.rs": "fn f() {\n if a {\n crate::routes::x()\n }\n}"},
            [
                "api/src/domain/application.rs:3: `crate::routes::x`: "
                "domain must not import routes"
            ],
        ),
        (
            "a module imported by use, then used as a prefix",
            {"api/src/db/rows.rs": "use crate::domain;\nfn f() { domain::application::new(); }\n"},
            [
                "api/src/db/rows.rs:1: `crate::domain`: db must not import domain",
                "api/src/db/rows.rs:2: `domain::application::new`: db must not import domain",
            ],
        ),
        (
            "main.rs through the library's name",
            {"api/src/main.rs": "fn main() { reissue_api::cli::run(); reissue_api::db::open() }"},
            ["api/src/main.rs:1: `reissue_api::db::open`: main must not import db"],
        ),
        (
            "comments, strings, raw strings, chars and lifetimes hide nothing and show nothing",
            {
                "api/src/db/rows.rs": (
                    "// use crate::domain::X;\n/* crate::routes::y() /* nested */ */\n"
                    "/// [`crate::domain::Context`]\n"
                    'const A: &str = "use crate::domain::X;";\n'
                    'const B: &str = r#"crate::routes::z "quoted""#;\n'
                    "const C: char = '\"';\nfn f<'a>(x: &'a str) -> char { '\\'' }\n"
                    "fn g() { crate::domain::leak(); }\n"
                )
            },
            ["api/src/db/rows.rs:8: `crate::domain::leak`: db must not import domain"],
        ),
        (
            "#[cfg(test)] code is not checked",
            {
                "api/src/db/rows.rs": (
                    "#[cfg(test)]\nmod tests {\n    use crate::domain::Application;\n}\n"
                    "#[cfg(test)]\nfn helper() { crate::routes::x(); }\nuse crate::domain::Late;\n"
                )
            },
            ["api/src/db/rows.rs:7: `crate::domain::Late`: db must not import domain"],
        ),
        (
            "a re-export is followed to the module that defines the item",
            {
                "api/src/domain/mod.rs": "pub mod application;\npub use crate::routes::Handler;\n",
                "api/src/db/rows.rs": "use crate::domain::Handler;\n",
            },
            [
                "api/src/db/rows.rs:1: `crate::domain::Handler`: db must not import routes",
                "api/src/domain/mod.rs:2: `crate::routes::Handler`: domain must not import routes",
            ],
        ),
        (
            "a file in no layer",
            {"api/src/lib.rs": lib + "pub mod stray;\n", "api/src/stray.rs": "pub fn f() {}\n"},
            ["api/src/stray.rs:1: in no layer"],
        ),
        (
            "two sibling modules importing each other",
            {
                "api/src/db/mod.rs": "pub mod rows;\npub mod pool;\n",
                "api/src/db/rows.rs": "use super::pool::Pool;\n",
                "api/src/db/pool.rs": "fn f() { super::rows::Row::new(); }\n",
            },
            [
                "api: modules import each other: db::pool → db::rows → db::pool\n"
                "    api/src/db/pool.rs:1: `super::rows::Row::new` (pool → rows)\n"
                "    api/src/db/rows.rs:1: `super::pool::Pool` (rows → pool)"
            ],
        ),
    ]
    failures = 0
    for name, changes, expected in cases:
        kind = "cycle" if expected and "import each other" in expected[0] else "layer"
        got = findings_for(changes, kind)
        ok = len(got) == len(expected) and all(
            g.startswith(e) for g, e in zip(sorted(got), sorted(expected))
        )
        if not ok:
            failures += 1
            print(f"self-test FAILED: {name}\n  expected: {expected}\n  got:      {got}")

    # Crates without layers: a cycle of three; a pair inside a larger knot (both reported); a
    # `#[cfg(test)] mod tests;` file, whose imports are test code.
    crate_cases = [
        (
            "a cycle of three",
            {
                "x/src/lib.rs": "mod a; mod b; mod c;\n",
                "x/src/a.rs": "use crate::b::B;\n",
                "x/src/b.rs": "use crate::c::C;\n",
                "x/src/c.rs": "use crate::a::A;\n",
            },
            ["x: modules import each other: a → b → c → a"],
        ),
        (
            "a pair and a longer cycle in one knot",
            {
                "x/src/lib.rs": "mod a; mod b; mod c;\n",
                "x/src/a.rs": "use crate::b::B;\n",
                "x/src/b.rs": "use crate::{a::A, c::C};\n",
                "x/src/c.rs": "fn f() { crate::a::g() }\n",
            },
            [
                "x: modules import each other: a → b → a",
                "x: modules import each other: c → a → b → c",
            ],
        ),
        (
            "a test file module",
            {
                "x/src/lib.rs": "mod a;\n#[cfg(test)]\nmod tests;\n",
                "x/src/a.rs": "use crate::tests::Fixture;\n",
                "x/src/tests.rs": "use crate::a::A;\n",
            },
            [],
        ),
    ]
    for name, files, expected in crate_cases:
        found, _ = run(files.get, [CrateSpec("x", "x/src/lib.rs")])
        got = [f.message.splitlines()[0] for f in found]
        if got != expected:
            failures += 1
            print(f"self-test FAILED: {name}\n  expected: {expected}\n  got:      {got}")

    total = len(cases) + len(crate_cases)
    if failures:
        print(f"self-test: {failures} of {total} cases failed")
        return 1
    print(f"self-test: {total} cases passed (each bad import reported at its file and line)")
    return 0


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Checks that the layers of api/src import one way and that no modules of a "
        "crate import each other (rules and details at the top of this script)."
    )
    parser.add_argument("--warn-only", action="store_true", help="report without failing")
    parser.add_argument(
        "--strict",
        action="append",
        default=[],
        metavar="CRATE",
        help="fail on this crate's findings even with --warn-only ("
        + ", ".join(c.name for c in CRATES)
        + ")",
    )
    parser.add_argument("--self-test", action="store_true", help="check the checker on examples")
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="the workspace to check (default: the one holding this script)",
    )
    parser.add_argument(
        "--list", action="store_true", help="also print every import found, resolved"
    )
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    unknown = set(args.strict) - {c.name for c in CRATES}
    if unknown:
        parser.error(f"unknown crate(s) for --strict: {', '.join(sorted(unknown))}")

    root = args.root.resolve()

    def read(relative: str) -> Optional[str]:
        path = root / relative
        return path.read_text(encoding="utf-8") if path.is_file() else None

    findings, summary = run(read, CRATES, args.list)
    failing = [f for f in findings if not args.warn_only or f.crate in args.strict]
    for finding in findings:
        label = "error" if finding in failing else "warning"
        print(f"{label}: {finding.message}")
    for line in summary:
        print(line)
    if failing:
        sys.stdout.flush()  # the findings above the verdict, also when both go to one log
        print(
            f"architecture check failed: {len(failing)} finding(s); the rules are at the top of "
            f"{Path(__file__).resolve()}",
            file=sys.stderr,
        )
        return 1
    if findings:
        print(f"{len(findings)} finding(s) reported as warnings (--warn-only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
