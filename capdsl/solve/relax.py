"""Linear-programming relaxation of a formulation, for lower bounds (OR-Tools GLOP).

The CP-SAT model is read back from its proto: integer variables become continuous within
their domains, a constraint enforced by literals becomes a Big-M row (M from the variables'
bounds, exact for the relaxation), exactly-one stays an equality. Rows are scaled by their
largest coefficient, the objective likewise, for the simplex's numerics. The LP optimum is
a lower bound of the integer optimum; it is reported 1e-6 lower to absorb the simplex's
tolerances.
"""

from __future__ import annotations

from ortools.linear_solver import pywraplp

from capdsl.solve.formulate import Formulation

_INF = 2**62


def lp_bound(form: Formulation, *, time_limit: float) -> float | None:
    """The LP relaxation's optimum in money (fleet constant included), or None if GLOP did
    not prove it within ``time_limit``."""
    proto = form.model.proto
    lp = pywraplp.Solver.CreateSolver("GLOP")
    if lp is None:
        return None
    lp.SetTimeLimit(max(1, int(time_limit * 1000)))
    bounds = []
    xs = []
    for v in proto.variables:
        d = list(v.domain)
        bounds.append((d[0], d[-1]))
        xs.append(lp.NumVar(float(d[0]), float(d[-1]), ""))

    def literal(idx: int) -> tuple[pywraplp.Variable, bool]:
        return (xs[idx], True) if idx >= 0 else (xs[-idx - 1], False)

    for c in proto.constraints:
        if c.has_exactly_one():
            lits = [literal(i) for i in c.exactly_one.literals]
            lp.Add(sum(x if pos else 1 - x for x, pos in lits) == 1)
            continue
        if not c.has_linear():
            return None  # not a model this relaxation understands
        lin = c.linear
        vars_ = list(lin.vars)
        coeffs = list(lin.coeffs)
        dom = list(lin.domain)
        lo, hi = dom[0], dom[-1]
        scale = float(max([abs(x) for x in coeffs] + [1]))
        low = sum(
            min(k * bounds[v][0], k * bounds[v][1]) for v, k in zip(vars_, coeffs, strict=True)
        )
        high = sum(
            max(k * bounds[v][0], k * bounds[v][1]) for v, k in zip(vars_, coeffs, strict=True)
        )
        expr = sum((k / scale) * xs[v] for v, k in zip(vars_, coeffs, strict=True)) if vars_ else 0
        slack = 0
        for idx in c.enforcement_literal:
            x, pos = literal(idx)
            slack = slack + ((1 - x) if pos else x)
        enforced = len(c.enforcement_literal) > 0
        if lo > -_INF and lo > low:
            lp.Add(
                expr + ((lo - low) / scale) * slack >= lo / scale
                if enforced
                else expr >= lo / scale
            )
        if hi < _INF and hi < high:
            lp.Add(
                expr - ((high - hi) / scale) * slack <= hi / scale
                if enforced
                else expr <= hi / scale
            )
    obj = proto.objective
    coeffs = list(obj.coeffs)
    scale = float(max([abs(x) for x in coeffs] + [1]))
    lp.Minimize(sum((k / scale) * xs[v] for v, k in zip(list(obj.vars), coeffs, strict=True)))
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    value = lp.Objective().Value() * scale
    return form.to_money(value * (1 - 1e-6) if value > 0 else value)
