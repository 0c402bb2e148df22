"""A parser for the measurement part of lavaan's model syntax.

Supported (the subset a CFA needs)::

    visual  =~ x1 + x2 + x3          # a factor measured by indicators (first loading fixed to 1)
    textual =~ NA*x4 + x5 + 0.8*x6   # NA* frees a loading; a number fixes it; a name labels it
    x1 ~~ x4                         # residual covariance between two indicators
    visual ~~ 1*visual               # fix (or free) a latent variance / covariance
    visual ~~ 0*speed                # orthogonal factors

Statements are separated by newlines or ``;``; ``#`` and ``!`` start comments. A statement may
continue on the next line when it ends with ``+``. Modifiers are ``number*``, ``NA*``, ``label*``
(equal labels give equal parameters) or ``start(number)*``; lavaan's ``c(...)`` group-wise
modifiers are not supported and raise :class:`~commonweal.errors.SpecError`.

Reference: Rosseel, Y. (2012). lavaan: An R Package for Structural Equation Modeling.
*Journal of Statistical Software*, 48(2). https://lavaan.ugent.be/tutorial/syntax1.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from commonweal.errors import Problem, SpecError

__all__ = ["ModelSpec", "Term", "parse_model"]

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_START = re.compile(r"^start\(\s*([^)]*)\s*\)$")


@dataclass(frozen=True, slots=True)
class Term:
    """One right-hand-side term: ``fixed`` is a number or ``None`` (free); ``label`` names it."""

    name: str
    fixed: float | None = None
    label: str | None = None
    force_free: bool = False
    start: float | None = None


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A parsed measurement model.

    Attributes
    ----------
    factors : dict mapping each latent variable to its indicator terms, in order of appearance.
    covariances : list of ``(lhs, rhs, term)`` from ``~~`` statements.
    observed : indicator names in order of first appearance.
    """

    factors: dict[str, tuple[Term, ...]]
    covariances: tuple[tuple[str, Term], ...] = field(default_factory=tuple)
    source: str = ""

    @property
    def latent(self) -> tuple[str, ...]:
        return tuple(self.factors)

    @property
    def observed(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for terms in self.factors.values():
            for t in terms:
                if t.name not in self.factors:
                    seen.setdefault(t.name, None)
        return tuple(seen)

    def to_dict(self) -> dict[str, object]:
        return {
            "factors": {f: [t.name for t in ts] for f, ts in self.factors.items()},
            "covariances": [[lhs, t.name] for lhs, t in self.covariances],
            "observed": list(self.observed),
        }


def _problem(msg: str, line: int | None) -> SpecError:
    return SpecError(f"model syntax: {msg}", [Problem(msg, file="model", row=line)])


def _parse_term(raw: str, line: int) -> Term:
    text = raw.strip()
    if not text:
        raise _problem("empty term (a stray '+'?)", line)
    parts = [p.strip() for p in text.split("*")]
    name = parts[-1]
    if not _NAME.match(name):
        raise _problem(f"{name!r} is not a variable name", line)
    fixed: float | None = None
    label: str | None = None
    force_free = False
    start: float | None = None
    for mod in parts[:-1]:
        if mod.startswith("c("):
            raise _problem("group-wise modifiers c(...) are not supported; use group_equal", line)
        m = _START.match(mod)
        if m:
            if not _NUMBER.match(m.group(1)):
                raise _problem(f"start value {m.group(1)!r} is not a number", line)
            start = float(m.group(1))
        elif mod == "NA":
            force_free = True
        elif _NUMBER.match(mod):
            fixed = float(mod)
        elif _NAME.match(mod):
            label = mod
        else:
            raise _problem(f"cannot read modifier {mod!r}", line)
    if fixed is not None and force_free:
        raise _problem(f"{name!r} is both fixed and freed (NA*)", line)
    return Term(name, fixed, label, force_free, start)


def _statements(source: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    pending = ""
    pending_line = 0
    for lineno, raw in enumerate(source.splitlines(), start=1):
        line = re.split(r"[#!]", raw, maxsplit=1)[0]
        for piece in line.split(";"):
            piece = piece.strip()
            if not piece:
                continue
            if pending:
                pending = f"{pending} {piece}"
            else:
                pending, pending_line = piece, lineno
            if not pending.endswith("+"):
                out.append((pending_line, pending))
                pending = ""
    if pending:
        raise _problem("statement ends with '+'", pending_line)
    return out


def parse_model(source: str) -> ModelSpec:
    """Parse lavaan-style measurement syntax into a :class:`ModelSpec`.

    Parameters
    ----------
    source : str
        Model text, e.g. ``"visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6"``.

    Returns
    -------
    ModelSpec

    Raises
    ------
    SpecError
        For an unknown operator, a malformed term, a factor defined twice, a factor with no
        indicator, or structural regressions (``~``), which this CFA engine does not fit.

    Examples
    --------
    >>> spec = parse_model("f =~ a + b + c")
    >>> spec.observed
    ('a', 'b', 'c')
    """
    factors: dict[str, list[Term]] = {}
    covs: list[tuple[str, Term]] = []
    stmts = _statements(source)
    if not stmts:
        raise SpecError("model syntax: the model is empty",
                        [Problem("no statements", file="model")])
    for line, stmt in stmts:
        if "=~" in stmt:
            lhs, rhs = stmt.split("=~", 1)
            lhs = lhs.strip()
            if not _NAME.match(lhs):
                raise _problem(f"{lhs!r} is not a factor name", line)
            if lhs in factors:
                raise _problem(f"factor {lhs!r} is defined twice; list all indicators once", line)
            terms = [_parse_term(t, line) for t in rhs.split("+")]
            names = [t.name for t in terms]
            if len(set(names)) != len(names):
                raise _problem(f"factor {lhs!r} lists an indicator twice", line)
            factors[lhs] = terms
        elif "~~" in stmt:
            lhs, rhs = stmt.split("~~", 1)
            lhs = lhs.strip()
            if not _NAME.match(lhs):
                raise _problem(f"{lhs!r} is not a variable name", line)
            for raw_term in rhs.split("+"):
                covs.append((lhs, _parse_term(raw_term, line)))
        elif re.search(r"~\s*1\b", stmt) or "~" in stmt or ":=" in stmt or "==" in stmt:
            raise _problem(
                f"only '=~' and '~~' are supported in a CFA model (got {stmt!r})", line
            )
        else:
            raise _problem(f"no operator in {stmt!r}", line)
    if not factors:
        raise SpecError(
            "model syntax: no factor defined (use 'factor =~ item1 + item2 + ...')",
            [Problem("no '=~' statement", file="model")],
        )
    for f, terms in factors.items():
        for t in terms:
            if t.name in factors:
                raise _problem(
                    f"{t.name!r} is a factor used as an indicator of {f!r}; higher-order "
                    "models are not supported",
                    None,
                )
    return ModelSpec(
        factors={f: tuple(ts) for f, ts in factors.items()},
        covariances=tuple(covs),
        source=source,
    )
