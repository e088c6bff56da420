"""Large plans: month by month, with the reservations decided in between, and a valid bound.

Once the reservations are fixed, the months are independent (on-demand and spot change
freely between hours; quotas and monthly budgets are per month). capdsl exploits that:

The unit of work is a *block* (one group of hours of one month) when the plan has no hard
monthly budget -- CP-SAT proves a block's optimum in a fraction of a second, while the same
blocks in one model stall it -- and a *month* otherwise.

1. **bound**: every unit is solved alone with reservations *rented* for just that unit at
   their amortised rate (``reservations="rent"``, pro rata to the unit's billed hours).
   Holding a reservation for its whole term is never cheaper than renting it for the hours
   it is used, and every other constraint of the unit is kept, so the sum of the units'
   optima -- and of CP-SAT's bounds on them -- is a valid lower bound on the plan's cost.
   In block units, batch work (due per month) is bounded by one batch-only model per month
   when the plan has no services (beside them it would be no relaxation: renting for the
   whole month what a plan runs on the services' idle reservations; their blocks alone
   bound the plan then); each unit's existing-fleet cost is counted once a month, and the
   sum is no bound when that cost alone overruns a soft monthly budget (``units_add_up``);
   a total budget is left out (a relaxation too). Monthly LP relaxations with reservations
   rented per month are tighter and used when the months are small enough; before either,
   ``relax.capacity_bound`` gives a weak bound from prices per unit of capacity alone (no
   model built), then ``relax.aggregate_bound`` one from monthly LPs over instance
   families (reservations held for the month, in vCPUs: milliseconds, and within 0.05-0.9%
   of the full LPs on the M and L benchmarks), so a plan too large for the others, or a time
   limit too short, still has a fair one; with it the full LPs run only when their
   estimated work fits their share of the time limit. Both LPs then take the services'
   *integer floors* (``floors.py``: what whole instances in zones cost a service at each
   demand level, from small CP-SAT models on a time budget of their own -- the LPs buy
   fractions of instances, which is most of what they miss where a service needs a few;
   the floors also get the work budget the search leaves, after a last deepening).
   The highest bound found is the plan's;
2. **schedule**: from the instances the units run, ``schedule.py`` decides which
   reservations to buy when (terms, payment options, lead time, commitment cap), exactly;
3. **allocate**: every unit is solved again with those reservations fixed
   (``reservations="fixed"``), giving a plan that meets every constraint (in block units a
   batch workload does each block's share of its monthly work, pro rata to its hours). The
   first plan's blocks are then made *lean* (``search.lean``): a reserved instance costs a
   block with fixed reservations nothing, so its optimum may run every one owned (CP-SAT
   keeps what its hint, the spreadsheet plan, ran), and the reservations rescheduled for
   that usage would be the same again; each block is re-solved from its plan, its cost
   capped, for as few reserved instances as it needs (the example plans: retail at 10 s
   $15,535 -> $14,331, saas-growth at 20 s $52,776 -> $48,742);
3b. **chain** (months small enough: ``CHAIN_MAX_VARIABLES``): reservations chosen month by
   month (``chain``): each month's services planned whole on what earlier months bought
   (free) and new reservations rented at their monthly rate, one service at a time (each
   keeping the reservations it ran the month before), then together from that plan; what a
   month rents is bought at its start. The relaxation's month models pick the mix of sizes
   that fits each month's demand, where the spreadsheet runs one size per service (the M
   benchmark with one demand level a month: $44,152 -> $40,268, L $23,657 -> $22,421);
   its reservations are then evaluated like the first plan's;
4. **alternate**: while time remains, the reservations rescheduled for the instances the
   best plan runs (priced on that same usage first: still feasible, never dearer), then the
   blocks of the months whose reservations changed re-planned (a block whose month owns the
   same reservations as before is the same model: its result is reused); the best plan is
   kept. The spreadsheet plan (``greedy.py``) starts it the same way: its usage repriced
   with the reservations that pay off for it -- each service on the offering that costs
   least with those reservations, not on demand (``greedy._cheapest``: on-demand prices
   pick a family whose reservations save less; this start took the M benchmark from
   $73,394 to $67,746, L from $39,936 to $37,834, XL from $1,446,107 to $1,315,969 and the
   retail example from $12,524 to $11,863; the other examples chose the same offerings),
   each block's instances over the number of zones that needs the fewest (``greedy._spread``:
   a spreadsheet spreads them over all of them, and reserves its quietest block's count --
   XL, which is never re-planned, $1,315,969 -> $1,043,234, L $37,530 -> $35,319).
   A round starts only if the deepening (6.)
   still fits after it: re-searching the best plan's blocks gains more than a further round
   (the L benchmark: $41,638 -> $40,058);
5. **descend again**: when the rounds settle with time left and the best plan does not
   meet the bound (every block optimal for its reservations says nothing of others), the
   same alternation from no reservations at all. A reservation owned is free to every
   block that can run it, so the blocks keep running what the spreadsheet reserved, and
   the rounds reserve it again; from below, the blocks run what on-demand and spot prices
   favour and only what pays off for that is reserved. The cheaper plan is kept;
6. **deepen**: the blocks of the best plan not proven optimal are searched again from
   their plans, each keeping the cheaper of its two results -- or those of another
   re-planned plan whose cost less what its blocks could still save (CP-SAT's bounds) is
   clearly below the best's (``Decomposer.deepening_target``); then the best plan's usage
   gets the reservations that serve it best (``repriced``: never dearer); then, in the
   blocks still not proven optimal, each service alone, the other workloads held
   (``services_alone``: one service's block is proven in milliseconds where the block of
   every service is not; the M benchmark with daily shapes at 10 s $66,669 -> $66,398, L
   at 30 s $35,294 -> $34,601; it also runs on a plan whose blocks are too large to
   re-plan, with all the work left: XL at 60 s $1,043,234 -> $1,027,402);
7. **batch work, the month whole**: in block units each block does its share of a month's
   batch work, pro rata to its hours, which runs it beside the services' peaks. At the end
   each month's batch work is placed again by one model of the month for the batch alone,
   the services' instances held fixed (``SolveContext.fixed_use``: they draw on the
   reservations owned and count in the quotas first), so it runs on the reservations they
   leave idle at night; kept when the verifier accepts it and it is cheaper, then repriced
   (data-pipelines $42,688 -> $39,733, saas-growth $49,006 -> $47,321). Its share of the
   time limit comes out of the deepening's, and each month's model gets at least
   ``BATCH_MONTH_S``; it runs even past the work budget (saas-growth at 10 s ends its
   deepening there: $49,877 -> $47,920, in 12 s). A block with no room for its share (the
   services fill a quota at their peak) does not sink the plan: its month's blocks are
   planned without batch work and the month's batch work placed whole (``evaluate``).

**Time.** The work budget is ``WORK_CAP`` time limits of *work counted*, in seconds of the
reference machine's work (a time limit buys ``time_limit x speed`` of them, the speed this
machine's: ``speed.py``; ``Decomposer.time_limit`` is that product): what each unit
measured (its model's size and CP-SAT's deterministic time at rates calibrated on the 2-core
benchmark box: ``MonthRun.work``), the LPs' and floors' estimates, and those of scheduling,
pricing and verifying the plans built outside CP-SAT (by their usage's size:
``SCHEDULE_S_PER_ENTRY``, ``CHECK_S_PER_ENTRY``; the XL plan's start, 7.3 s of them, used to
be left out) -- a run's within 5-20% of the wall clock (over on the master's models: the L
benchmark with one level a month at 30 s counts 25.6 s for 21-22 s, on the reference
machine), and the same on every machine of the same speed. A pass starts only if its
estimate (from the plan's size, scaled by what the units run so far measured against their
estimates: ``calibrated``) fits in the budget left; one
estimated far over its share of the time (``PASS_OVERRUN``: a plan of many blocks on a short
limit -- each block needs a least time) runs in groups of similar blocks instead, each
planned for its highest level, when that adds at most ``MAX_GROUPING_OVERHEAD``
capacity-hours (saas-growth at 5 s: $62,658 -> $52,992); a plan whose blocks are too large
for the whole budget is not re-planned (XL). Blocks proven optimal early used to be counted
at their whole limit: the data-pipelines example at 5 s ended at 1.9 s with $56,507, and now
runs its second descent ($39,733, 4.2 s).

Units run in parallel threads (CP-SAT releases the GIL), each single-threaded with a
deterministic time limit and light parameters (``search.BLOCK_PARAMS``), so the result is
the same on every run; so do the monthly LPs (GLOP releases the GIL too). A pass's blocks
share its time by what each may gain (``by_weight``): what the instances of its hint cost
(a block of 97 billed hours carries twelve times the money of one of 8), and in the
deepening its slack (plan less CP-SAT's bound on it). A plan with a hard total budget is
solved whole (``solver.py``), since the units would not see it.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction

from capdsl.solve.columns import Column, Pair, column, master, master_lp, moved
from capdsl.solve.context import (
    STANDARD,
    Choice,
    SolveContext,
    count_variables,
    purchase_months,
)
from capdsl.solve.costing import price_solution
from capdsl.solve.extract import purchases_of, split_standard
from capdsl.solve.floors import Floors, FloorSearch
from capdsl.solve.formulate import (
    BuyKey,
    Formulation,
    OptionKey,
    UseKey,
    by_option,
    formulate,
)
from capdsl.solve.greedy import greedy_counts
from capdsl.solve.money import existing_fleet_cost, to_cents, to_decimal
from capdsl.solve.progress import Progress
from capdsl.solve.prune import coarsen
from capdsl.solve.schedule import owned_by_month, schedule_reservations
from capdsl.solve.search import (
    BLOCK_DTIME_PER_SECOND,
    BLOCK_PARAMS,
    DTIME_PER_SECOND,
    MONTH_DTIME_PER_SECOND,
    RunResult,
    lean,
    relative_gap,
    run_model,
)


@dataclass
class MonthRun:
    month: int
    status: str
    use: dict[UseKey, int] = field(default_factory=dict)
    rent: dict[BuyKey, int] = field(default_factory=dict)
    objective: float | None = None  # money, the month's fixed costs included
    bound: float | None = None
    # what the unit cost, in wall seconds at the calibrated rates, from its model's size and
    # CP-SAT's deterministic time (its own work counter): the same on every machine
    work: float = 0.0

    def gap(self) -> float | None:
        """What the plan may still be above the unit's optimum (CP-SAT's bound), if known."""
        if self.objective is None or self.bound is None:
            return None
        return max(0.0, self.objective - self.bound)


@dataclass
class Candidate:
    buys: dict[BuyKey, int]
    use: dict[UseKey, int]
    cost: float
    proven: bool  # every month solved to optimality for these reservations
    # what searching its blocks further could save at most, for these reservations: the
    # sum over its blocks of (block plan - CP-SAT's bound on that block)
    slack: float = 0.0
    # its reservations are those that serve its usage best (``Decomposer.repriced``):
    # rescheduling them again gives the same (the XL benchmark: 4 s for nothing)
    scheduled: bool = False
    # its blocks were planned in this many groups a month (``Decomposer.affordable_groups``)
    groups: int | None = None

    def outcome(self) -> str:
        """The log's words for this plan."""
        how = f" (blocks in {self.groups} groups a month)" if self.groups else ""
        return f"plan {self.cost:,.2f}{how}"


# The bound solves each month's blocks in this many groups, at each group's lowest level.
GROUPS_PER_MONTH = 6
# A plan with too many blocks to re-plan one by one in the time is re-planned in groups of
# similar blocks, each group for its highest level, unless that adds more than this share of
# capacity-hours to the services (``grouping_overhead``): saas-growth at 5 s in 9 groups a
# month (+6.9%) cost $55,752 against its start's $62,658; the XL benchmark in 6 (+38%),
# $1,348,366 against $1,043,234, and the time it took was the floors'.
MAX_GROUPING_OVERHEAD = 0.1
# Monthly LP relaxations are used for the bound up to this many variables per month.
LP_MAX_VARIABLES = 60_000
# Share of the time limit for the monthly LPs. With the bound over instance families
# (``relax.aggregate_bound``: milliseconds) they run only when their estimated work fits in
# it: they add zones, N+k and the rounding cuts, which matter most where a few instances
# carry a workload (the retail example: 9,574 vs 6,858; the L benchmark: 30,934 vs 30,659),
# and they took the M benchmark 3.6 s of its 10 for 60,919 vs 60,889.
LP_SHARE = 0.2
# Months up to this many variables get the rounding cuts in their LP (``formulate(cuts=
# True)``): on the examples they raise the bound by up to 4% (retail, a few instances a
# zone) for milliseconds; on the M benchmark's months (8,600 to 9,300 variables) they doubled the
# simplex (0.46 -> 1 s a month) for +0.6%.
LP_CUTS_MAX_VARIABLES = 5_000
# Wall time a unit costs beyond its search limit (building the model, presolve), measured.
UNIT_OVERHEAD_S = 0.015
# What a unit that ran cost, in wall seconds on the 2-core benchmark box: a fixed part, a
# part per variable of its model, and CP-SAT's deterministic time (its own work counter) at
# the rate of a block's model, or of a month's (``MonthRun.work``). Fitted over 1,500 units
# of the benchmarks and examples (within 3-7% of each plan's total), then scaled to two
# threads at once (their units run 10-17% slower; months 40%).
RUN_S = 0.0056
RUN_S_PER_VARIABLE = 2.8e-5
BLOCK_S_PER_DTIME = 3.9
MONTH_S_PER_DTIME = 2.4
# ... a block's deterministic time past this much at this rate instead (4,400 block models
# of the benchmarks at speed 1.3: those of L with one level a month, 0.13 units each where
# the daily shapes' take 0.004-0.008, were counted at 1.6-1.8 times their wall clock)
BLOCK_DTIME_KNEE = 0.02
BLOCK_S_PER_DTIME_PAST = 2.0
# ... and of a unit with reservations rented (its deterministic limit at the default
# ``DTIME_PER_SECOND``): 1.9-2.4 on the chained plans of the M and L benchmarks with one
# level a month (3.9 counted their chains at 1.7-1.9 times their wall time)
RENT_S_PER_DTIME = 2.2
# The least search limit of a unit (s), and the most a unit gets when units share their
# time by what each may gain, as a multiple of the average (``by_weight``).
UNIT_MIN_S = 0.02
SLACK_CAP = 4.0
# Per variable of a unit, measured on the 2-core benchmark box: building its model, and the
# search it needs before it finds any plan (an XL block of 5,700 variables: 0.1 s to build,
# nothing found under 0.6 s). The estimate of a pass not run yet (``unit_cost``), which
# decides whether it starts: ``UNCALIBRATED`` below.
UNIT_BUILD_S_PER_VARIABLE = 2e-5
UNIT_SEARCH_S_PER_VARIABLE = 1e-4
# A monthly LP relaxation per variable (building, reading back, GLOP), measured on the M and
# L benchmark plans (1.4e-4 and 0.85e-4).
LP_S_PER_VARIABLE = 1.1e-4
# ... times this with the integer floors (their rows per service and level: the M and L
# benchmarks with daily shapes, 3.83 s against 2.14 s, 4.42 s against 2.59 s, with the dual
# simplex). With the primal (``relax.SIMPLEX``) the rows cost little (M 1.9 s and L 2.5 s
# of wall clock at speed 1.3, for 4.7 s and 10.2 s counted); at a lower factor those LPs
# would run at 10 s and 30 s, where they raise the bound by $0.06 and by nothing (the
# floors' family LPs bound as high) for 2-2.5 s of the wall clock. Kept.
LP_FLOORS_FACTOR = 1.75
# The same for the LPs over instance families, one after another (building them in Python
# is half of it), measured on the XL benchmark (180,767 variables, 3.0 s).
AGGREGATE_S_PER_VARIABLE = 1.7e-5
# Share of the time limit for the integer floors (``floors.py``: what whole instances in
# zones cost each service, per demand level), after the family bound and before the monthly
# LPs, which take them too; and the share they get once more when the plan's blocks are too
# large to re-plan (the search then ends after the spreadsheet's usage: the XL benchmark,
# whose fleet DPs take 10 s, its standard DPs 8 s more and 132 models 6 s, for a bound of
# $857,080 -> $896,222 -- 0.17 of the time limit ran its first DPs only; its plan's pricing,
# verification and explanation take 15-18 s after the search). Within 5% of the time
# limit the floors raised the family bound by 3.5% on the M benchmark (half a second), 17%
# on the retail example (a second). Each service has two DPs since the standard floors
# (``floors.standard_only``), and 5% left M with one of its three standard DPs and no
# model: 10% gives it all three and its bound $63,268 -> $63,566 (gap 5.45% -> 5.01%), for
# half a second more wall.
FLOOR_SHARE = 0.1
FLOOR_IDLE_SHARE = 0.4
# The floors run before the first plan only when the family LPs they re-solve take at most
# this share of the floors' time (the XL benchmark's take 3 s; the L benchmark's 0.35 s: at
# 10 s, with a quarter, it ended with no floors and a 16% gap, now 8.4%)
FLOOR_LP_RATIO = 0.5
# The share of the work budget not given to the floors when the search leaves time (the
# evaluations' pricing, the batch placement's Python and the solution's extraction are not
# counted in it).
IDLE_MARGIN = 0.1
# ... unless the family bound with the floors so far is further than this below the plan's
# bound (``Decomposer.floors_may_raise_the_bound``): more floor models raised it by
# 0.1-0.3% on the benchmarks.
IDLE_FAMILY_GAP = 0.02
# Work (s) per entry of a plan's usage (instances of one service, offering, zone and kind in
# one block) of scheduling its reservations (``schedule``) and of pricing and verifying a
# plan (``checked``), measured on the benchmarks and examples: 21-62 and 22-38 us (the XL
# plan's start, 105,000 entries: 4.1 s and 3.2 s, which its work used to leave out, so that
# at 20 s it ran the floors twice and ended at 28.7 s).
SCHEDULE_S_PER_ENTRY = 4e-5
CHECK_S_PER_ENTRY = 3e-5
# The least share of the time limit left over that the best plan's blocks are searched again
# for; as many of them as fit in it, those with the most slack first (``evaluate``'s
# ``within``: the M benchmark at 10 s searched all 111 at the least limit each, for 1.7 s
# of work where 1.3 s was left, and ended at 10.7 s; now 56 of them, $66,669 in 10 s).
AGAIN_SHARE = 0.05
# A deepening that does not fit keeps this share of its blocks with the most slack, again
# until it fits.
DEEPEN_SHRINK = 0.8
# The wall time of the floors' estimated work (``FloorSearch.work``), measured on the
# benchmarks and examples: 0.5-0.8.
FLOOR_WALL_PER_WORK = 0.6
# The work counted (measured, in wall seconds at the calibrated rates) after which no new
# pass starts, in time limits.
WORK_CAP = 1.0
# Units' estimated work (``unit_cost``) is about twice what they measure (per block of the
# M benchmark 0.047 s against 0.025 s, of saas-growth 0.045 s against 0.021 s, of
# data-pipelines 0.030 s against 0.008 s: blocks proven optimal early, and fewer variables
# than the plan's average per block once built). Before any unit has run, estimates are
# taken at this share; after, at the share measured (``Decomposer.calibrated``).
UNCALIBRATED = 0.5
# A pass of units is run block by block only if it is estimated to take at most this many
# times the time it was given (units get at least ``UNIT_MIN_S`` each, so a plan of many
# blocks takes more than a short share): saas-growth at 5 s, 421 blocks, took 4.4 s of the
# first plan's 2.25, and ended at 6.8 s ($53,081); in 9 groups a month, 5.3 s ($52,992).
PASS_OVERRUN = 2.0
# Blocks run to calibrate the estimates before a pass is declared too large (``probe``).
PROBE_BLOCKS = 4
# Past this many time limits of wall clock, and at least this many seconds past the
# deadline, no new pass starts even if the estimated work says it may (a machine far slower
# than calibrated). The floor keeps short limits (a quick first plan of 0.45 s on a busy
# machine) from being cut by the machine's load, which would make two runs differ.
WALL_SAFETY = 3
WALL_SAFETY_MIN_S = 30.0

# Shares of the time limit: the first plan's blocks (a block needs ~0.1 s to move off its
# hint: most of the blocks' time goes there), the rounds (only the blocks of the months
# whose reservations changed), the deepening (the blocks of the best plan not proven optimal
# searched again from their plans; it also gets the rounds' shares left unused). A block
# searched twice from its own plan gains more than one searched once for as long: a quarter
# of the time limit there took the M benchmark from $77,630 to $73,400 (replacing a
# month-by-month polish of the best plan that found nothing: whole months need more search
# before their first plan than such a share gives them).
FIRST_SHARE = 0.45
ROUND_SHARES = (0.15, 0.1)
DEEPEN_SHARE = 0.2
# Each service alone in the best plan's blocks not proven optimal, the other workloads held
# (``Decomposer.services_alone``), after the deepening, with this share of the time limit
# (with all the work left when the blocks are too large to re-plan: no deepening then).
ALONE_SHARE = 0.2
# Evaluations of the second descent (from no reservations), sharing the rounds' time left.
DESCENT_STEPS = 3
# ... abandoned when its usage with the reservations that serve it best costs more than this
# times the best plan: re-planning the blocks for them took 4-22% off (M at 30 s 1.25 times
# the best, then 7% dearer; retail 1.39 times, then 8.5% dearer; data-pipelines 0.78 times,
# then 25% cheaper); the time goes to searching the best plan's blocks again.
DESCENT_ABANDON = 1.2
# The first plan's blocks are made lean (``search.lean``) with this share of each block's
# deterministic time on top of its search.
LEAN_SHARE = 0.3
# The deepening searches another plan than the best only when that plan's cost less its
# blocks' slack is below the best's by more than this share of the best's cost, and costs at
# most SWITCH_MAX times the best's (the XL benchmark with one level a month: the second
# descent's plan, its months too large to improve on their hint in their share, ran the
# spreadsheet's usage on demand at 2.6 times the best; its slack, nearly all of it, made it
# the target, and 7 s of deepening found nothing; M at 60 s switched at 1.01 times)
SWITCH_MARGIN = 0.04
SWITCH_MAX = 1.2
# Share of the time limit for placing each month's batch work again, the month whole, at the
# end (``Decomposer.place_batch``).
BATCH_SHARE = 0.1
# The least search limit of a month's batch model there (s): with 0.05 s, saas-growth's
# found nothing better than the blocks' placement; with 0.3 s, $1,700 less
BATCH_MONTH_S = 0.3
# The chained plan (``Decomposer.chain``): built when each service's month model has at most
# this many variables (months of one or a few demand levels), within this share of the time
# limit for its models and the same again for its blocks, each service's model searched
# CHAIN_UNIT_S, the month's together CHAIN_MONTH_S. (A tenth of the time limit skipped it on
# the M benchmark with one level a month at 5 s and L at 10 and 20 s, which then ended at a
# third of their limits with the spreadsheet's plan: M at 5 s $44,152 -> $40,268, L at 10 s
# $23,657 -> $22,421; budget-overrun at 5 s $253,821 -> $253,885, where its blocks then find
# no plan in the time left.)
CHAIN_MAX_VARIABLES = 1000
CHAIN_SHARE = 0.3
CHAIN_UNIT_S = 0.1
CHAIN_MONTH_S = 0.3
# The services' month plans mixed (``mix``), after the chained plan: the services' bound
# first with this share of the time, then the mix with this one, of which at most this share
# goes to checking months' best plans in earlier months and up to this one (with the
# checks) to the extensions; the master's work per unit of CP-SAT's deterministic time, and
# per column for building its model
MIX_SHARE = 0.3
SERVICE_SHARE = 0.3  # (the services' bound before it: its units take milliseconds)
MIX_CHECK_SHARE = 0.2
MIX_EXTEND_SHARE = 0.5
# (measured on the M and L benchmarks with one level a month at speed 1.3: 0.55-0.68 s of
# wall clock per unit, 0.16-0.2 ms per column, which is 0.72-0.88 s and 0.2-0.26 ms of the
# reference machine's; they were 1.2 and 1 ms, which counted the master at 1.9-4.5 times
# its wall clock)
MIX_S_PER_DTIME = 0.9
MIX_BUILD_S_PER_COLUMN = 0.0003
# Rounds of the mix at the end get this share of the work budget left (M with one level a
# month, seed 1, at 10 s: a round given 1.7 s took 1.9 s, and the search ended at 10.1 s;
# at 0.6, 9.6 s; seed 4's second round still finds its plan, 1.38% -> 0.94%)
MIX_AGAIN = 0.6
# Column generation (``Decomposer.price_columns``): each service's month searched at most this
# long for the column the master's LP duals price lowest (most are proven in 5-15 ms); a
# column is added when its reduced cost is below minus this much money
PRICE_UNIT_S = 0.5
PRICE_MIN_GAIN = 0.005
# It starts only if the work left is at least this many rounds times the months times this
# much work per month priced: some five rounds at the work measured with the light parameters
# below (the benchmarks with one level a month: M 0.007-0.010 a month, L 0.012). M converges
# in 12-22 rounds, partly of the months that gained alone, its first few giving no bound.
# (Asking for room for 20 rounds at the old parameters' 0.01, it did not run on M's seed 5 at
# 60 s, where it gains: 1.21% -> 1.16%.)
PRICE_MIN_ROUNDS = 10
PRICE_UNIT_WORK = 0.005
# The share of its budget kept for the master over the columns found
PRICE_MASTER_SHARE = 0.15
# Its priced months are searched with the blocks' light parameters (``BLOCK_PARAMS``: no cuts,
# one presolve round): the services' months of the M and L benchmarks with one level a month
# are all proven as with the defaults, 4-5 times faster (M 55 -> 12 ms a month, L 60-200 ->
# 40 ms), and on M at 30 s column generation converges in 2.1 s where it took 8.2 s. (The
# services' months alone, ``service_bound``, keep the defaults: with the light parameters
# they give other plans of the same cost, from which the master found dearer plans on the
# tests' LEVELS plan, $3,866.40 against its optimum $3,844.80.)
# Estimated work of building and solving the master's LP, per column (GLOP): measured at
# 0.017-0.023 ms a column at speed 1.3 (M and L with one level a month, 5-18 LPs); it was
# 0.5 ms, which counted M's 18 LPs at 3.9 s for 0.18 s, and column generation stopped at
# 9 of the 18 rounds it needs at 10 s (M seed 4 at 10 s: 0.94% -> 0.35%, with the
# master's rates above)
PRICE_LP_S_PER_COLUMN = 3e-5

Unit = tuple[int, int | None]  # (month, block index or None for the whole month)


def reserved_by_service(
    ctx: SolveContext, use: Mapping[UseKey, int], owned: Mapping[tuple[str, int], int], month: int
) -> dict[str, dict[str, int]]:
    """How many of the reservations owned in ``month`` each workload's standard instances
    run on, per offering (its most at once over the month's blocks; the workloads served in
    name order, each offering's reservations shared out until none is left)."""
    peak: dict[tuple[str, str], int] = defaultdict(int)
    per_block: dict[tuple[str, str, int], int] = defaultdict(int)
    for (w, t, _z, kind, m, b), n in use.items():
        if kind == STANDARD and m == month:
            per_block[(w, t, b)] += n
    for (w, t, _b), n in per_block.items():
        peak[(w, t)] = max(peak[(w, t)], n)
    left = {t: n for (t, m), n in owned.items() if m == month}
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for (w, t), n in sorted(peak.items()):
        take = min(n, left.get(t, 0))
        if take > 0:
            out[w][t] = take
            left[t] -= take
    return dict(out)


def canonical_zones(ctx: SolveContext, use: Mapping[UseKey, int]) -> dict[UseKey, int]:
    """``use`` with the zones of each group of interchangeable zones (``ctx.zone_groups``)
    renamed so that they run the most instances first, as the models' symmetry breaking
    (``formulate._Builder.symmetry``) requires of a plan: the same plan up to the zones'
    names, at the same cost."""
    rename: dict[str, str] = {}
    for group in ctx.zone_groups:
        totals = {z: 0 for z in group}
        for (_w, _t, z, _k, _m, _b), n in use.items():
            if z in totals:
                totals[z] += n
        ranked = sorted(group, key=lambda z: -totals[z])
        rename.update(zip(ranked, group, strict=True))
    return {(w, t, rename.get(z, z), k, m, b): n for (w, t, z, k, m, b), n in use.items()}


def by_weight(per: float, weights: list[float | None]) -> list[float]:
    """Search limits for units sharing ``per`` each on average, in proportion to their
    ``weights`` (what each may gain: a unit whose weight is unknown counts the average of
    the others), each between ``UNIT_MIN_S`` and ``SLACK_CAP`` times the average. At the
    same time, on the M and L benchmarks and the saas-growth and seasonal-ecommerce
    examples: the deepening's blocks by their slack (plan less CP-SAT's bound),
    $67,740 -> $67,115, $37,783 -> $37,657, $48,661 -> $48,630, $9,772 -> $9,753; and
    the other passes' blocks by what their hint's instances cost, on top of it, -> $66,918,
    $37,530, $48,355, $9,739. (Blocks of 8 and of 97 billed hours had the same time.)"""
    known = [g for g in weights if g is not None]
    mean = sum(known) / len(known) if known else 1.0
    full = [mean if g is None else g for g in weights]
    total = sum(full)
    if total <= 0:
        return [per] * len(full)
    n = len(full)
    raw = [min(SLACK_CAP * per, max(UNIT_MIN_S, per * n * w / total)) for w in full]
    scale = per * n / sum(raw)
    return [min(SLACK_CAP * per, max(UNIT_MIN_S, x * scale)) for x in raw]


def owned_signatures(
    owned: Mapping[tuple[str, int], int], horizon: int
) -> dict[int, tuple[tuple[str, int], ...]]:
    """Each month's reservations owned ((offering, month) -> count), as a key: a block whose
    month owns the same is the same model (``Decomposer.unit_runs``)."""
    return {
        m: tuple(sorted((t, n) for (t, mm), n in owned.items() if mm == m and n))
        for m in range(horizon)
    }


def unit_context(
    ctx: SolveContext,
    unit: Unit,
    mode: str,
    owned: Mapping[tuple[str, int], int] | None = None,
    cost: tuple[Fraction, ...] = (),
    *,
    batch: str = "month",
    only: frozenset[str] | None = None,
) -> SolveContext:
    """The sub-model of one block or one month (other blocks left out)."""
    month, block = unit
    blocks = tuple(
        (tuple(b for b in bs if block is None or b.index == block) if i == month else ())
        for i, bs in enumerate(ctx.blocks)
    )
    share = Fraction(1)
    if block is not None:
        share = sum((b.billed for b in blocks[month]), Fraction(0)) / Fraction(ctx.hours_per_month)
    return replace(
        ctx,
        blocks=blocks,
        reservations=mode,
        fixed_owned=dict(owned or {}),
        fixed_cost=cost,
        rent_share=share,
        batch=batch,
        only=only,
    )


def month_context(ctx: SolveContext, month: int, mode: str) -> SolveContext:
    return unit_context(ctx, (month, None), mode)


def grouping_overhead(ctx: SolveContext, grouped: SolveContext) -> float:
    """What planning ``grouped``'s blocks (``prune.coarsen``) adds to the capacity-hours of
    ``ctx``'s blocks, each service's share averaged over the services."""
    shares = []
    for w in ctx.plan.workloads:
        if w.kind == "batch":
            continue
        own = sum(b.hours * b.level.get(w.name, 0.0) for bs in ctx.blocks for b in bs)
        coarse = sum(g.hours * g.level.get(w.name, 0.0) for bs in grouped.blocks for g in bs)
        if own > 0:
            shares.append(coarse / own - 1.0)
    return sum(shares) / len(shares) if shares else 0.0


def _to_members(grouped: SolveContext, use: Mapping[UseKey, int]) -> dict[UseKey, int]:
    """A plan for groups of blocks as a plan for each member block."""
    members = {(m, b.index): b.members for m, bs in enumerate(grouped.blocks) for b in bs}
    out: dict[UseKey, int] = {}
    for (w, t, z, kind, m, g), n in use.items():
        for b in members.get((m, g), (g,)):
            out[(w, t, z, kind, m, b)] = n
    return out


def _to_groups(grouped: SolveContext, use: Mapping[UseKey, int]) -> dict[UseKey, int]:
    """A plan per block as a hint for groups of blocks (each group's busiest member)."""
    group_of = {
        (m, b): g.index for m, bs in enumerate(grouped.blocks) for g in bs for b in g.members
    }
    out: dict[UseKey, int] = {}
    for (w, t, z, kind, m, b), n in use.items():
        key = (w, t, z, kind, m, group_of.get((m, b), b))
        out[key] = max(out.get(key, 0), n)
    return out


def usage_of(ctx: SolveContext, use: Mapping[UseKey, int]) -> dict[tuple[str, int, int], int]:
    """Standard instances per (offering, month, block) beyond zonal reservations owned."""
    per_zone: dict[tuple[str, str, int, int], int] = defaultdict(int)
    for (_w, t, z, kind, m, b), n in use.items():
        if kind == STANDARD and t in ctx.pools:
            per_zone[(t, z, m, b)] += n
    out: dict[tuple[str, int, int], int] = defaultdict(int)
    for (t, z, m, b), n in per_zone.items():
        zonal = ctx.pools[t].zonal.get(z)
        out[(t, m, b)] += max(0, n - (zonal[m] if zonal else 0))
    return dict(out)


class Decomposer:
    def __init__(
        self,
        ctx: SolveContext,
        *,
        deadline: float,
        seed: int,
        threads: int,
        stop: threading.Event | None,
        on_progress: Callable[[Progress], None] | None,
        started: float,
        speed: float = 1.0,
    ) -> None:
        self.ctx = ctx
        self.deadline = deadline
        self.speed = speed  # this machine's (``speed.py``): the work budget's scale
        self.seed = seed
        self.threads = max(1, threads)
        self.stop = stop
        self.on_progress = on_progress
        self.started = started
        plan = ctx.plan
        self.by_block = True
        self.monthly_caps = [b for b in plan.budgets if b.hard and b.monthly is not None]
        if self.by_block:
            self.units: list[Unit] = [(m, b.index) for m, bs in enumerate(ctx.blocks) for b in bs]
        else:
            self.units = [(m, None) for m in range(plan.horizon)]
        self.batch = frozenset(w.name for w in plan.workloads if w.kind == "batch")
        self.services = frozenset(w.name for w in plan.workloads if w.kind != "batch")
        self.lower: float | None = None
        self.best: Candidate | None = None
        self.infeasible_unit: Unit | None = None
        self.infeasible_context: SolveContext | None = None
        self.log: list[str] = []
        # seconds of work so far (what the units measured, the LPs' and floors' estimates, at
        # the calibrated rates): what decides whether a new pass starts, so that every
        # machine runs the same passes
        self.work = 0.0
        # the units' work estimated before they ran, and measured (``run_all``)
        self.units_estimated = 0.0
        self.units_measured = 0.0
        self.too_large = False  # block units cannot be afforded within the time limit
        # blocks solved now are made lean: fewer reserved instances at the same cost
        self.leaning = False
        self.evaluated: list[Candidate] = []  # every plan whose blocks were re-planned
        # each service's month alone, reservations rented (``service_bound``), by (service,
        # month): the month's best plan of that service, a column of ``mix``
        self.service_runs: dict[tuple[str, int], MonthRun] = {}
        self.mixed = False  # ``mix`` gave the best plan (no second descent then)
        # ``mix``'s columns by (service, month), those it has worked from (extended into the
        # next month as far as the share went: not again), and the months' plans alone it
        # moved into earlier months (by signature)
        self.columns: dict[Pair, list[Column]] = defaultdict(list)
        self.columns_done: set[tuple[Pair, object]] = set()
        self.alone_moved: set[tuple[Pair, object]] = set()
        # block runs by (unit, reservations owned in its month): a block whose month owns
        # the same reservations as in an earlier evaluation is the same model; its earlier
        # result is reused (re-solving it from that result would not find more) and its
        # share of time goes to the blocks whose reservations changed
        self.unit_runs: dict[tuple[Unit, tuple[tuple[str, int], ...]], MonthRun] = {}
        self.floor_search: FloorSearch | None = None
        self.floors: Floors | None = None  # the integer floors found so far, for the LPs
        self.family_work = 0.0  # estimated work of the family bound's LPs
        self.family_value: float | None = None  # the family bound, with the floors so far

    @property
    def time_limit(self) -> float:
        """The time limit in seconds of work (the reference machine's, at which every rate
        here is fitted): the wall clock's limit times this machine's speed."""
        return (self.deadline - self.started) * self.speed

    def remaining(self) -> float:
        return self.deadline - time.perf_counter()

    def out_of_time(self) -> bool:
        """Stop requested, or no new pass may start: the work done so far (``work``: what
        the units measured and the LPs' and floors' estimates, at the calibrated rates; the
        same on every machine) is past ``WORK_CAP`` time limits; or, as a safety net for a
        machine far slower than calibrated, the wall clock is past ``WALL_SAFETY`` time
        limits and at least ``WALL_SAFETY_MIN_S`` past the deadline (only then may two runs
        differ)."""
        return self.stopped() or self.work > self.work_cap() or self.past_safety_net()

    def past_safety_net(self) -> bool:
        """The wall clock is past ``WALL_SAFETY`` time limits and at least
        ``WALL_SAFETY_MIN_S`` past the deadline (a machine far slower than calibrated)."""
        wall = self.deadline - self.started
        return self.remaining() <= -max((WALL_SAFETY - 1) * wall, WALL_SAFETY_MIN_S)

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def unit_limit(self, n: int, budget: float) -> float:
        """The search limit of each of ``n`` units sharing ``budget`` seconds."""
        return max(UNIT_MIN_S, (budget * self.threads - n * UNIT_OVERHEAD_S) / max(1, n) * 0.8)

    def unit_variables(self) -> float:
        """Decision variables of one block unit, on average."""
        return count_variables(self.ctx) / max(1, len(self.units))

    def unit_cost(self, per: float, blocks: int = 1, variables: float | None = None) -> float:
        """Estimated wall time of one unit of ``blocks`` blocks (or of ``variables``
        variables) searched ``per`` seconds."""
        size = self.unit_variables() * blocks if variables is None else variables
        return (
            UNIT_OVERHEAD_S
            + size * UNIT_BUILD_S_PER_VARIABLE
            + max(per, size * UNIT_SEARCH_S_PER_VARIABLE)
        )

    def calibrated(self, estimate: float) -> float:
        """An estimate of units' work (``unit_cost``) scaled by what the units run so far
        measured against their estimates (blocks proven optimal early cost a fraction of
        their limit: the data-pipelines example's a fifth); before any has run, by
        ``UNCALIBRATED``."""
        if self.units_estimated <= 0:
            return estimate * UNCALIBRATED
        return estimate * self.units_measured / self.units_estimated

    def pass_estimate(self, n_units: int, budget: float) -> float:
        """The estimated work of ``n_units`` units of the plan's size sharing ``budget``
        seconds (each searched ``unit_limit``)."""
        per = self.unit_limit(n_units, budget)
        return self.calibrated(n_units * self.unit_cost(per) / self.threads)

    def affordable(self, n_units: int, budget: float, overrun: float | None = None) -> bool:
        """Whether such a pass fits in the work budget left (``WORK_CAP`` time limits) and,
        given ``overrun``, takes at most that many times ``budget``."""
        work = self.pass_estimate(n_units, budget)
        return self.fits(work) and (overrun is None or work <= overrun * budget)

    def affordable_groups(self, budget: float) -> int | None:
        """The most groups of blocks per month (``prune.coarsen``) whose units are
        affordable sharing ``budget``; None if none are, or if planning the groups for their
        highest levels adds more than ``MAX_GROUPING_OVERHEAD`` (``grouping_overhead``)."""
        most = max(len(bs) for bs in self.ctx.blocks) // 2
        for groups in range(most, 0, -1):
            n = groups * self.ctx.plan.horizon
            if self.affordable(n, budget, PASS_OVERRUN):
                over = grouping_overhead(self.ctx, coarsen(self.ctx, groups, "max"))
                return groups if over <= MAX_GROUPING_OVERHEAD else None
        return None

    def pass_work(self, share: float, passes: int = 1) -> float:
        """Estimated work of ``passes`` passes over every block sharing ``share`` of the
        time limit each."""
        n = len(self.units)
        per = self.unit_limit(n, self.time_limit * share)
        return self.calibrated(passes * n * self.unit_cost(per) / self.threads)

    def work_cap(self) -> float:
        return WORK_CAP * self.time_limit

    def fits(self, work: float) -> bool:
        """Whether ``work`` more, after the work done, stays within the work budget (the
        limit ``out_of_time`` applies between passes)."""
        return self.work + work <= self.work_cap()

    def closed(self) -> bool:
        """The best plan is proven optimal: its cost meets the lower bound. (``proven`` on a
        candidate says less: every block optimal for that candidate's reservations.)"""
        return (
            self.best is not None
            and self.lower is not None
            and self.best.cost <= self.lower + max(1e-6, abs(self.lower) * 1e-9)
        )

    def raise_lower(self, value: float) -> None:
        """Every bound computed is valid: the plan's is the highest."""
        if self.lower is None or value > self.lower:
            self.lower = value

    def report(self) -> None:
        if self.on_progress is None:
            return
        obj = self.best.cost if self.best else None
        self.on_progress(
            Progress(
                obj, self.lower, relative_gap(obj, self.lower), time.perf_counter() - self.started
            )
        )

    # ------------------------------------------------------------------ units

    def run_unit(
        self,
        sub: SolveContext,
        time_limit: float,
        hint_use: Mapping[UseKey, int],
        hint_buy: Mapping[OptionKey, int] | None = None,
        params: Mapping[str, bool | int | float] | None = None,
    ) -> MonthRun:
        month = next(i for i, bs in enumerate(sub.blocks) if bs)
        if self.stopped():
            # stopped: the units not started yet are skipped, and the evaluation they
            # belong to is abandoned (the best plan so far stands). Far past the deadline
            # they still run: a pass is finished the same on any machine, and passes too
            # large for the time limit are not started (``affordable``)
            return MonthRun(month, "unknown")
        keys = {(month, b.index) for b in sub.blocks[month]}
        hint = {k: v for k, v in hint_use.items() if (k[4], k[5]) in keys} if hint_use else None
        form, _ = formulate(sub, hint_use=hint, hint_buy=hint_buy)
        leaning = self.leaning and sub.reservations == "fixed"
        if params is None and sub.reservations == "fixed":
            params = BLOCK_PARAMS
        # the rates of the light parameters (blocks' or months' models), or of the defaults
        # (reservations rented)
        light = params is BLOCK_PARAMS
        one = len(keys) == 1
        dtime_per_second = (
            (BLOCK_DTIME_PER_SECOND if one else MONTH_DTIME_PER_SECOND)
            if light
            else DTIME_PER_SECOND
        )
        per_dtime = (BLOCK_S_PER_DTIME if one else MONTH_S_PER_DTIME) if light else RENT_S_PER_DTIME
        res = run_model(
            form,
            time_limit=time_limit,
            stop=self.stop,
            seed=self.seed,
            workers=1,
            params=params,
            dtime_per_second=dtime_per_second,
            keep_values=leaning,
        )
        use = res.use
        work = RUN_S + form.n_variables * RUN_S_PER_VARIABLE + res.dtime * per_dtime
        if light and one and res.dtime > BLOCK_DTIME_KNEE:
            # a long search in a block: its deterministic time past the knee comes cheaper
            work -= (res.dtime - BLOCK_DTIME_KNEE) * (per_dtime - BLOCK_S_PER_DTIME_PAST)
        if leaning and res.status in ("optimal", "feasible"):
            spent: list[float] = []
            leaner = lean(
                form,
                res,
                self.reserved_lanes(sub, form, month),
                dtime=time_limit * dtime_per_second * LEAN_SHARE,
                seed=self.seed,
                spent=spent,
            )
            use = leaner if leaner is not None else use
            work += sum(spent) * per_dtime
        return MonthRun(month, res.status, use, res.buy, res.objective, res.bound, work)

    @staticmethod
    def reserved_lanes(sub: SolveContext, form: Formulation, month: int) -> list[UseKey]:
        """The block's standard lanes of offerings that own reservations in ``month``
        (regional, or zonal in the lane's zone): free instances to a block with its
        reservations fixed."""
        out = []
        for k in form.use:
            _w, t, z, kind, _m, _b = k
            pool = sub.pools.get(t)
            if kind != STANDARD or pool is None:
                continue
            zonal = pool.zonal.get(z)
            owned = pool.existing[month] + sub.fixed_owned.get((t, month), 0)
            if owned + (zonal[month] if zonal else 0) > 0:
                out.append(k)
        return out

    def run_all(
        self,
        subs: list[SolveContext],
        budget: float,
        hint_use: Mapping[UseKey, int],
        weights: list[float | None] | None = None,
        sizes: list[float] | None = None,
        params: Mapping[str, bool | int | float] | None = None,
    ) -> list[MonthRun]:
        """Solve units in parallel, each with an equal share of ``budget`` -- or, given
        ``weights`` (what each unit may gain), shares in proportion to them
        (``by_weight``). ``sizes``: each unit's variables, for the work estimated, where
        they are not the plan's average per block (units of some workloads only). The work
        counted is what the units measured (``MonthRun.work``); the estimate beside it
        calibrates the estimates of passes not run yet (``calibrated``)."""
        n = max(1, len(subs))
        per = self.unit_limit(n, budget)
        pers = by_weight(per, weights) if weights is not None else [per] * len(subs)
        estimate = (
            sum(
                self.unit_cost(
                    p, sum(len(bs) for bs in sub.blocks), sizes[i] if sizes is not None else None
                )
                for i, (sub, p) in enumerate(zip(subs, pers, strict=True))
            )
            / self.threads
        )
        # the hint split by block once (each unit filtering the whole plan's hint cost a
        # tenth of a block unit's Python time on the M plan)
        by_block: dict[tuple[int, int], dict[UseKey, int]] = defaultdict(dict)
        for k, v in hint_use.items():
            by_block[(k[4], k[5])][k] = v

        def hint_of(sub: SolveContext) -> dict[UseKey, int]:
            out: dict[UseKey, int] = {}
            for m, bs in enumerate(sub.blocks):
                for b in bs:
                    out.update(by_block.get((m, b.index), {}))
            return out

        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="capdsl-unit") as pool:
            futures = [
                pool.submit(self.run_unit, sub, p, hint_of(sub), params=params)
                for sub, p in zip(subs, pers, strict=True)
            ]
            runs = [f.result() for f in futures]
        measured = sum(r.work for r in runs) / self.threads
        self.work += measured
        if not self.stopped():
            self.units_estimated += estimate
            self.units_measured += measured
        return runs

    # ------------------------------------------------------------------ phases

    def aggregate_bound(self, budget: float) -> bool:
        """The bound from each month's LP over instance families (``relax.aggregate_bound``);
        False when an LP is not solved in time."""
        from capdsl.solve.relax import aggregate_bound

        if self.out_of_time():
            return False
        value, variables = aggregate_bound(self.ctx, time_limit=budget, stop=self.stop)
        self.family_work = variables * AGGREGATE_S_PER_VARIABLE
        self.work += self.family_work
        if value is None:
            return False
        self.raise_lower(value)
        self.family_value = value
        self.log.append(
            f"bound from {self.ctx.plan.horizon} monthly LPs over instance families: {value:,.2f}"
        )
        return True

    def spare(self) -> float:
        """The work budget left, less a tenth of it (``IDLE_MARGIN``: what the work does
        not count, as the evaluations' pricing and the solution's extraction) and less the
        batch placement's estimate, which follows."""
        idle = (1 - IDLE_MARGIN) * self.work_cap() - self.work
        if self.batch:  # (its models mostly end early: the estimate's uncalibrated share)
            idle -= self.batch_budget(self.time_limit * BATCH_SHARE) * UNCALIBRATED
        return idle

    def units_add_up(self) -> bool:
        """Whether the units of a month (its blocks, or its services) bound it by their sum
        under its soft budgets: each unit pays the overrun of what it costs with the
        month's existing-fleet cost, and those overruns add up to no more than the month's
        only when that fleet cost alone is within the budget (else each unit pays the
        fleet's overrun again: a fleet of $720 a month against a soft budget of $500 gave
        a plan of $2,341 a bound of $2,666)."""
        fleet = max(existing_fleet_cost(self.ctx.plan), default=Fraction(0))
        return all(
            b.hard or b.monthly is None or Fraction(b.monthly) >= fleet
            for b in self.ctx.plan.budgets
        )

    def units_total(self, runs: list[MonthRun]) -> float:
        """The sum of units' bounds, each month's existing-fleet cost counted once: each
        unit's value includes its month's, and a month has several units (counted each
        time, a fleet of 2 reservations at $0.50 an hour took a 2-month plan of 3 blocks a
        month, optimum $1,488, to a bound of $4,349)."""
        fleet = existing_fleet_cost(self.ctx.plan)
        return sum((r.bound or 0.0) - float(fleet[r.month]) for r in runs) + float(
            sum(fleet, Fraction(0))
        )

    def service_bound(self, budget: float) -> bool:
        """The bound from each service's blocks alone, each with reservations rented for its
        share of the month (``reservations="rent"``): a plan's services use at most the
        reservations it holds in every block, so what they rent for their blocks' shares
        costs no more than it; quotas and budgets shared with other services, and the batch
        work, are left out (relaxations too). Exact integer models, unlike the LPs: in a
        month of one demand level, the month's own relaxation (the M benchmark with one
        level a month at 10 s: $39,917 from the LPs with the floors -> $39,956; L at 30 s,
        when the chained plan had a tenth of the time, $21,775 -> $21,866). False when its
        units' estimated work is over ``budget`` or a unit's search gave no bound, and not
        tried on months of several blocks: there the monthly LPs, which hold a reservation
        for the whole month, are well above it (the retail example: $7,115 against $10,802;
        seasonal-ecommerce, budget-overrun likewise)."""
        ctx = self.ctx
        if (
            not self.services
            or self.out_of_time()
            or any(len(bs) != 1 for bs in ctx.blocks)
            or not self.units_add_up()
        ):
            return False
        keys = [(w, m) for m in range(ctx.horizon) for w in sorted(self.services)]
        if self.service_runs:
            # called again (with the time the search left): its units not proven yet
            again = [k for k in keys if self.service_runs[k].status != "optimal"]
            if not again or not self.search_services_again(again, budget):
                return False
        else:
            # (each unit's model is built from the whole block's lanes: estimated as a block
            # unit, not at a service's size, with which the XL benchmark's 1,200 units ran
            # 7 s past its time limit)
            if not self.affordable(len(keys), budget, 1.0):
                return False
            before = self.work
            runs = self.run_all([self.service_month(w, m) for w, m in keys], budget, {})
            if any(r.bound is None for r in runs) or self.stopped():
                return False
            self.service_runs = dict(zip(keys, runs, strict=True))
            # the units not proven in their share searched again, with what the others
            # left: most are proven in milliseconds, and one unproven unit weighs on the
            # sum by its whole gap (the L benchmark with one level a month at 30 s: a month
            # of one service at $508 against its optimum of $547)
            again = [k for k in keys if self.service_runs[k].status != "optimal"]
            left = budget - (self.work - before)
            if again and not self.search_services_again(again, left) and self.stopped():
                return False
        value = self.units_total(list(self.service_runs.values()))
        raised = self.lower is None or value > self.lower
        self.raise_lower(value)
        self.log.append(
            f"bound from {len(keys)} service blocks alone (reservations rented per use"
            + (f", {len(again)} searched again" if again else "")
            + f"): {value:,.2f}"
            + ("" if raised else " (not above the others)")
        )
        return raised

    def search_services_again(self, keys: list[tuple[str, int]], budget: float) -> bool:
        """The services' months ``keys`` (``service_runs``) searched again sharing ``budget``,
        each bound kept where it rose. False if that is not affordable or was stopped."""
        if self.out_of_time() or not self.affordable(len(keys), budget, 1.0):
            return False
        runs = self.run_all([self.service_month(w, m) for w, m in keys], budget, {})
        if self.stopped():
            return False
        for k, r in zip(keys, runs, strict=True):
            if r.bound is not None and r.bound > (self.service_runs[k].bound or 0.0):
                self.service_runs[k] = r
        return True

    def service_month(
        self, service: str, month: int, owned: Mapping[str, int] | None = None
    ) -> SolveContext:
        """One service's month alone, reservations rented (``service_bound``), on plans of
        one block a month; with ``owned``, these reservations already bought (free)."""
        return unit_context(
            self.ctx,
            (month, self.ctx.blocks[month][0].index),
            "rent",
            {(t, month): n for t, n in (owned or {}).items()},
            batch="drop",
            only=frozenset({service}),
        )

    def serves(self, service: str, month: int, use: Mapping[UseKey, int]) -> bool:
        """Whether ``use`` (of ``service``, moved to ``month``) meets the service's needs in
        that month: its model with every instance fixed, found feasible."""
        form, _ = formulate(self.service_month(service, month))
        if any(k not in form.use or n > form.ub[k] for k, n in use.items() if n):
            return False
        for k, v in form.use.items():
            form.model.add(v == use.get(k, 0))
        res = run_model(form, time_limit=CHAIN_UNIT_S, stop=self.stop, seed=self.seed, workers=1)
        self.work += RUN_S + form.n_variables * RUN_S_PER_VARIABLE + res.dtime * RENT_S_PER_DTIME
        return res.status in ("optimal", "feasible")

    def by_pair(self, use: Mapping[UseKey, int]) -> dict[Pair, dict[UseKey, int]]:
        """A plan's usage of each service's month (``service_runs``' pairs; empty where it
        runs none)."""
        out: dict[Pair, dict[UseKey, int]] = {p: {} for p in self.service_runs}
        for k, n in use.items():
            if n and (k[0], k[4]) in out:
                out[(k[0], k[4])][k] = n
        return out

    def best_columns(self) -> dict[Pair, int]:
        """The best plan's month plans among the columns (added where new): their places,
        the master's hint."""
        assert self.best is not None
        return {
            pair: self.add_column(pair, column(self.ctx, part))
            for pair, part in self.by_pair(self.best.use).items()
        }

    def add_column(self, pair: Pair, col: Column) -> int:
        """``col`` (a service's month) among the columns of ``mix``, unless one of the same
        signature is; its place there."""
        cols = self.columns[pair]
        for k, c in enumerate(cols):
            if c.signature == col.signature:
                return k
        cols.append(col)
        return len(cols) - 1

    def mix(self, budget: float) -> bool:
        """A plan from each service's month plans (``columns.py``), the master choosing one for
        each (service, month) and the reservations for them, then the reservations that
        serve that usage best, and its check (``repriced``). The columns, kept from one call
        to the next: each service's month in every plan the search made and alone
        (``service_runs``); each month's plan alone also in the earlier months it serves
        (``serves``: with growth, most do); and, from each column not worked from yet (by
        month and service; the best plan's first gave worse plans: L $22,043 -> $22,270), the
        service's best plan of the next month with the column's reservations already bought
        (free), which nests in it where the next month's best plan does not (the L benchmark
        with one level a month at 30 s: $22,306 -> $22,119 against plans without one of the
        offerings the column runs) -- as far as their shares of ``budget`` go. On plans of
        one level a month, after ``service_bound``. True if it gave the best plan."""
        ctx = self.ctx
        if not self.service_runs or self.best is None or self.closed() or self.out_of_time():
            return False
        start = self.work

        hint = self.best_columns()
        for made in self.evaluated:
            for pair, part in self.by_pair(made.use).items():
                self.add_column(pair, column(ctx, part))
        alone = {pair: column(ctx, run.use) for pair, run in self.service_runs.items()}
        for pair, col in alone.items():
            self.add_column(pair, col)
        fresh = [
            (pair, k, col)
            for pair, cols in sorted(self.columns.items())
            for k, col in enumerate(cols)
            if (pair, col.signature) not in self.columns_done
        ]
        # each month's best plan alone also in the earlier months it serves (the latest
        # months' first, the services in turn: the share may not reach them all)
        best_alone = [
            (pair, col)
            for pair, col in alone.items()
            if (pair, col.signature) not in self.alone_moved
        ]
        self.alone_moved.update((pair, col.signature) for pair, col in best_alone)
        for (w, after), col in sorted(best_alone, key=lambda f: (-f[0][1], f[0][0])):
            for m in range(after):
                if self.work - start > budget * MIX_CHECK_SHARE or self.out_of_time():
                    break
                there = column(ctx, moved(ctx, col.use, m))
                known = {c.signature for c in self.columns[(w, m)]}
                if there.signature not in known and self.serves(w, m, there.use):
                    self.add_column((w, m), there)
        # each extended into the next month, as many as fit in their share
        share = budget * MIX_EXTEND_SHARE - (self.work - start)
        order = sorted(fresh, key=lambda f: (f[0][1], f[0][0]))
        movable = [f for f in order if f[0][1] + 1 < ctx.horizon]
        fit = len(movable) if share > 0 else 0
        while fit > 0 and not self.affordable(fit, share, 1.0):
            fit = fit * 3 // 4
        if fit:
            subs = [self.service_month(w, m + 1, col.std) for (w, m), _k, col in movable[:fit]]
            runs = self.run_all(subs, share, {})
            for ((w, m), _k, _col), run in zip(movable[:fit], runs, strict=True):
                if run.status in ("optimal", "feasible"):
                    self.add_column((w, m + 1), column(ctx, run.use))
        # worked from: those extended, and those of the last month (none to extend into)
        last = [f for f in order if f[0][1] + 1 >= ctx.horizon]
        self.columns_done.update((pair, col.signature) for pair, _k, col in movable[:fit] + last)
        return self.master_plan(hint, budget - (self.work - start), "services' month plans mixed")

    def master_plan(self, hint: Mapping[Pair, int], budget: float, what: str) -> bool:
        """The master (``columns.master``) over the columns so far, from ``hint`` (a column
        per (service, month): the best plan's), within ``budget`` of work; its plan with the
        reservations that serve it best, checked (``repriced``). True if that is the best
        plan."""
        assert self.best is not None
        ctx = self.ctx
        n = sum(len(c) for c in self.columns.values())
        # one worker: two interleaved ones ran up to three times past their deterministic
        # limit, and found no better plans in the same wall time (the L benchmark's master)
        dtime = max(0.0, budget - MIX_BUILD_S_PER_COLUMN * n) / MIX_S_PER_DTIME
        res = master(
            ctx,
            self.columns,
            hint,
            hint_buys=self.best.buys,
            dtime=dtime,
            seed=self.seed,
            workers=1,
            stop=self.stop,
        )
        self.work += MIX_BUILD_S_PER_COLUMN * n + res.dtime * MIX_S_PER_DTIME
        if res.status not in ("optimal", "feasible") or self.stopped():
            self.log.append(f"{what} ({n} plans): no plan")
            return False
        use = {k: v for k, v in self.best.use.items() if k[0] not in self.services}
        for col in res.chosen.values():
            use.update(col.use)
        return self.consider_logged(
            self.repriced(use), f"{what} ({n} plans, {res.status})", "no other plan"
        )

    def pricing_is_exact(self) -> bool:
        """Whether the master's LP (``columns.master_lp``) relaxes the plan and the priced
        months (``priced_month``) charge exactly the duals: nothing either leaves out makes
        a plan cheaper. Reservations already owned in a zone (free in that zone only, where
        the master pays for those instances) and a commitment cap (which the priced months,
        renting at the duals' prices, would apply to those prices) would; so would a lead
        time (a month before it rents nothing, and its instances would cost their on-demand
        price, not their dual); budgets' penalties are no part of a column's cost."""
        plan = self.ctx.plan
        return (
            not plan.budgets
            and plan.commitments.max_hourly is None
            and plan.commitments.lead_time_months <= 0
            and not any(pool.zonal for pool in self.ctx.pools.values())
        )

    def priced_month(
        self, service: str, month: int, rent: Mapping[tuple[str, int], float]
    ) -> SolveContext:
        """One service's month alone (``service_month``) with every standard instance of an
        offering with reservations costing ``rent`` ((offering, month) -> money: what the
        master's duals say it is worth, ``columns.Prices``; rented for the month at that
        price, or on-demand if dearer), and no reservation owned: its optimum is the column
        those prices make cheapest."""
        sub = self.service_month(service, month)
        hpm = Fraction(self.ctx.hours_per_month)
        pools = {}
        for t, pool in sub.pools.items():
            worth = Fraction(rent.get((t, month), 0.0))
            first = pool.choices[0] if pool.choices else None
            option = Choice(
                term_months=1,
                payment=first.payment if first else "no_upfront",
                offering_class=first.offering_class if first else "standard",
                upfront=Decimal(0),
                # (``formulate.monthly_rate`` x the unit's share of the month: the worth)
                hourly=to_decimal(worth / (hpm * sub.rent_share)),
            )
            pools[t] = replace(
                pool, choices=(option,), existing=(0,) * len(pool.existing), zonal={}
            )
        return replace(sub, pools=pools)

    def price_columns(self, budget: float) -> bool:
        """Column generation on plans of one level a month: the master's LP relaxation over
        the columns so far (``columns.master_lp``), then each service's month searched for
        the column its duals price lowest (``priced_month``); those that would lower the
        LP are added, and again, as far as ``budget`` goes or until none would. Each round
        with every month searched gives a bound (Lagrangian: the LP's duals price the
        reservations and on-demand exactly, so the services' months priced at them --
        CP-SAT's bounds on them -- bound every plan), which holds a reservation for its
        whole term where the services' months alone rent it for the month
        (``service_bound``). Then the master over all the columns, for a plan. True if that
        is the best plan."""
        ctx = self.ctx
        if (
            not self.service_runs
            or self.best is None
            or not self.pricing_is_exact()
            or self.closed()
            or self.out_of_time()
        ):
            return False
        start = self.work
        pairs = sorted(self.service_runs)
        fleet = existing_fleet_cost(ctx.plan)
        for pair, run in self.service_runs.items():
            self.add_column(pair, column(ctx, run.use))
        hint = self.best_columns()
        rounds = added = 0
        best_bound: float | None = None
        round_work = None  # per month priced
        todo = pairs
        while not self.out_of_time():
            left = budget - (self.work - start)
            n_cols = sum(len(c) for c in self.columns.values())
            lp_work = PRICE_LP_S_PER_COLUMN * n_cols
            per = min(PRICE_UNIT_S, self.unit_limit(len(todo), max(0.0, left - lp_work)))
            # (the budget whose ``unit_limit`` for these months is ``per``)
            share = (len(todo) * (per / 0.8 + UNIT_OVERHEAD_S)) / self.threads
            expected = lp_work + (
                round_work * len(todo) if round_work is not None else share * UNCALIBRATED
            )
            if expected > left - budget * PRICE_MASTER_SHARE or not self.fits(expected):
                break  # (the master's share kept)
            prices = master_lp(ctx, self.columns)
            self.work += lp_work
            if prices is None:
                break
            before = self.work
            runs = self.run_all(
                [self.priced_month(w, m, prices.rent) for w, m in todo],
                share,
                {},
                params=BLOCK_PARAMS,
            )
            round_work = (self.work - before) / len(todo)
            if self.stopped():
                return False
            rounds += 1
            gained: list[Pair] = []
            # a bound when every month was priced
            lagrangian: float | None = 0.0 if len(todo) == len(pairs) else None
            for (w, m), run in zip(todo, runs, strict=True):
                if run.bound is None or lagrangian is None:
                    lagrangian = None
                else:
                    # (each month's value counts its existing fleet once, the plan's below)
                    lagrangian += run.bound - float(fleet[m])
                if run.status not in ("optimal", "feasible"):
                    continue
                col = column(ctx, run.use)
                reduced = (
                    float(col.other)
                    + sum(prices.rent.get((t, m), 0.0) * n for t, n in col.std.items())
                    - prices.pair[(w, m)]
                )
                if reduced < -PRICE_MIN_GAIN:
                    k = len(self.columns[(w, m)])
                    if self.add_column((w, m), col) == k:
                        gained.append((w, m))
            if lagrangian is not None:
                lagrangian += float(sum(fleet, Fraction(0)))
                lagrangian -= sum(
                    prices.rent.get((t, m), 0.0) * pool.existing[m]
                    for t, pool in ctx.pools.items()
                    for m in range(ctx.horizon)
                )
                best_bound = lagrangian if best_bound is None else max(best_bound, lagrangian)
                self.raise_lower(lagrangian)
            added += len(gained)
            if gained:
                # the months that gained priced again first (the others' prices move little)
                todo = gained
            elif len(todo) < len(pairs):
                todo = pairs  # none gained: every month, for new ones and a bound
            else:
                break
        if not rounds:
            return False
        self.log.append(
            f"column generation: {rounds} rounds, {added} month plans added"
            + (f"; bound from its prices {best_bound:,.2f}" if best_bound is not None else "")
        )
        self.report()
        if not added or self.out_of_time():
            return False
        return self.master_plan(hint, budget - (self.work - start), "month plans priced, mixed")

    def floors_may_raise_the_bound(self) -> bool:
        """Whether more floors may raise the plan's bound: none found yet, or the family
        bound with those found within ``IDLE_FAMILY_GAP`` of the plan's (the floors raise
        the family bound; more of them, a little more: the retail example's, $9,228 with
        its floors against the monthly LPs' $10,802, stays below)."""
        if self.floors is None or self.family_value is None or self.lower is None:
            return True
        return self.family_value >= self.lower * (1 - IDLE_FAMILY_GAP)

    def floor_bound(self, budget: float) -> bool:
        """The integer floors (``floors.py``) searched for ``budget`` seconds more (of
        estimated work: the same floors on every run), then the family bound again with
        them; False when no floor was found or the LPs failed."""
        from capdsl.solve.relax import aggregate_bound

        if self.out_of_time():
            return False
        if self.floor_search is None:
            self.floor_search = FloorSearch(self.ctx, threads=self.threads, stop=self.stop)
        search = self.floor_search
        known = (search.levels, len(search.dp_standard), search.solves)
        before = search.work
        search.run(budget)
        # (its own estimate, from its DPs' steps and its models' deterministic time)
        self.work += (search.work - before) * FLOOR_WALL_PER_WORK
        if (search.levels, len(search.dp_standard), search.solves) == known or self.stopped():
            return False
        self.floors = search.floors()
        value, variables = aggregate_bound(
            self.ctx, time_limit=self.time_limit * 0.1, stop=self.stop, floors=self.floors
        )
        self.work += variables * AGGREGATE_S_PER_VARIABLE
        if value is None:
            return False
        self.raise_lower(value)
        self.family_value = value
        self.log.append(
            f"integer floors at {search.levels} service demand levels ({len(search.dp)} "
            f"services by the fleet DP, {len(search.dp_standard)} for their standard instances "
            f"alone too, {search.solves} CP-SAT models); with them, bound from "
            f"the monthly LPs over instance families: {value:,.2f}"
        )
        return True

    def lp_bound(self, budget: float, optional: bool = False) -> bool:
        """The bound from each month's LP relaxation with reservations rented per month (a
        much tighter relaxation than per use); False when a month's model is too large or
        an LP is not solved in time (then the block relaxation below is used, unless the
        family bound holds), or when they are ``optional`` (the family bound holds) and
        their estimated work is more than ``budget``. The first
        month is built alone (a plan whose months are too large is known after one); the
        others run on the decomposition's threads (GLOP releases the GIL, and building a
        month's model, in Python, runs beside the others' simplex). Every month is built
        and solved even when one fails, so that the work counted (from the months' sizes,
        in month order) is the same on every run."""
        from capdsl.solve.relax import lp_bound

        ctx = self.ctx
        if self.out_of_time():
            return False
        per = max(2.0, budget / max(1, ctx.plan.horizon))  # generous: a timed-out LP gives no bound
        if (
            ctx.blocks
            and (len(ctx.lanes) + len(ctx.pools)) * len(ctx.blocks[0]) > 2 * LP_MAX_VARIABLES
        ):
            # far too large by the count of its lanes and blocks: not built (the XL
            # benchmark's first month, 155,000 variables, took 2.7 s to find it out)
            return False
        first = self.month_model(0)
        rate = LP_S_PER_VARIABLE * (LP_FLOORS_FACTOR if self.floors is not None else 1.0)
        self.work += first.n_variables * rate / self.threads
        if first.n_variables > LP_MAX_VARIABLES:
            return False
        estimate = ctx.plan.horizon * first.n_variables * rate / self.threads
        if optional and estimate > budget:
            self.log.append(
                f"monthly LP relaxations skipped (estimated {estimate:.1f} s of work, more "
                f"than their {budget:.1f} s)"
            )
            return False

        def month(m: int) -> tuple[int, float | None]:
            if self.stopped():
                return 0, None
            form = first if m == 0 else self.month_model(m)
            if form.n_variables > LP_MAX_VARIABLES:
                return form.n_variables, None
            return form.n_variables, lp_bound(form, time_limit=per, floors=self.floors)

        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="capdsl-lp") as pool:
            results = list(pool.map(month, range(ctx.plan.horizon)))
        self.work += sum(n for n, _ in results[1:]) * rate / self.threads
        values = [v for _, v in results]
        if any(v is None for v in values):
            return False
        self.raise_lower(sum(v for v in values if v is not None))
        self.log.append(
            f"bound from {ctx.plan.horizon} monthly LP relaxations (reservations rented per month"
            + (", with the integer floors)" if self.floors is not None else ")")
        )
        return True

    def month_model(self, month: int) -> Formulation:
        """One month's model with reservations rented, for its LP relaxation (with the
        rounding cuts when the month is small enough)."""
        sub = unit_context(self.ctx, (month, None), "rent")
        form, _ = formulate(sub, cuts=count_variables(sub) <= LP_CUTS_MAX_VARIABLES)
        return form

    def bound(self, budget: float, hint_use: Mapping[UseKey, int]) -> dict[UseKey, int]:
        """Lower bound (``self.lower``); returns what the relaxation runs, per plan block."""
        ctx = self.ctx
        # a relaxation of the blocks (lowest level of a few similar blocks) keeps it quick
        grouped = coarsen(ctx, GROUPS_PER_MONTH, "min")
        subs = (
            [
                unit_context(grouped, (m, b.index), "rent", batch="drop", only=self.services)
                for m, bs in enumerate(grouped.blocks)
                for b in bs
            ]
            if self.services
            else []
        )
        subs += (
            [unit_context(ctx, (m, None), "rent", only=self.batch) for m in range(ctx.plan.horizon)]
            if self.batch
            else []
        )
        if self.too_large:
            self.log.append("block relaxation skipped (blocks too large for the time limit)")
            return {}
        runs = self.run_all(subs, budget, hint_use)
        bad = [(r, sub) for r, sub in zip(runs, subs, strict=True) if r.status == "infeasible"]
        if bad:
            r, sub = bad[0]
            self.infeasible_unit = (r.month, None)
            self.infeasible_context = sub
            return {}
        # Beside the services' blocks, the batch work's months are no relaxation: the
        # services rent a reservation for their blocks' share of the month, the batch work
        # for the whole month, where a plan runs the batch work on the services' idle
        # reservations (a service busy half the day on one reservation, and half a day of
        # batch work: $25 a month, and $37.50 in the sum). The services' blocks alone are one
        # (they rent at most what a plan holds, and the batch work costs no less than nothing)
        counted = [
            r
            for r, sub in zip(runs, subs, strict=True)
            if not (self.services and sub.only == self.batch)
        ]
        if all(r.bound is not None for r in runs) and self.units_add_up():
            self.raise_lower(self.units_total(counted))
        self.log.append(f"bound from {len(counted)} relaxed units (reservations rented per use)")
        members = {(m, b.index): b.members for m, bs in enumerate(grouped.blocks) for b in bs}
        rented: dict[UseKey, int] = {}
        for r, sub in zip(runs, subs, strict=True):
            for (w, t, z, kind, m, b), n in r.use.items():
                if sub.only == self.batch and self.batch:
                    rented[(w, t, z, kind, m, b)] = n
                else:
                    for fine in members.get((m, b), (b,)):
                        rented[(w, t, z, kind, m, fine)] = n
        return rented

    def evaluate(
        self,
        buys: dict[BuyKey, int],
        budget: float,
        hint_use: Mapping[UseKey, int],
        deepen: bool = False,
        within: bool = False,
    ) -> Candidate | None:
        """The best plan found for these reservations: every block solved alone, or -- when
        that is estimated far over ``budget`` -- a few groups of similar blocks per month,
        each planned for its highest level (feasible for all members: ``affordable_groups``).
        ``deepen``: the blocks not proven optimal for these reservations searched again
        (from ``hint_use``, sharing ``budget``); each keeps the cheaper of its two plans.
        ``within``: the deepening's estimate must fit in ``budget`` itself (the time the
        search leaves), not just in the work budget left; else it searches the blocks with
        the most slack that do."""
        owned, cost = owned_by_month(self.ctx, buys)
        groups: int | None = None
        base = self.ctx
        signature = owned_signatures(owned, self.ctx.plan.horizon)
        keys = [(u, signature[u[0]]) for u in self.units]
        fresh = [
            i
            for i, k in enumerate(keys)
            if k not in self.unit_runs or (deepen and self.unit_runs[k].status != "optimal")
        ]

        def fit(n: int) -> bool:
            return self.affordable(n, budget) and (
                not within or self.pass_estimate(n, budget) <= budget
            )

        if not self.affordable(len(fresh), budget, PASS_OVERRUN) or not fit(len(fresh)):
            before = self.work
            if self.probe(fresh, keys, (owned, cost), budget, hint_use):
                # the estimates calibrated on a few of its blocks: decided again, for the
                # others, with the budget they leave
                return self.evaluate(
                    buys, max(0.0, budget - (self.work - before)), hint_use, deepen, within
                )
            # far over its share of the time: in groups of blocks if that is cheap enough
            # in capacity, else block by block if the work budget left allows
            groups = None if deepen else self.affordable_groups(budget)
            if groups is not None:
                base = coarsen(self.ctx, groups, "max")
            elif deepen and not fit(len(fresh)):
                # the blocks with the most slack that fit in the budget left (those never
                # solved for these reservations all: they have no plan yet)
                budget = min(budget, max(0.0, self.work_cap() - self.work))
                new = [i for i in fresh if keys[i] not in self.unit_runs]
                rest = sorted(
                    (i for i in fresh if keys[i] in self.unit_runs),
                    key=lambda i: (-(self.unit_runs[keys[i]].gap() or 0.0), i),
                )
                while rest and not fit(len(new) + len(rest)):
                    rest = rest[: int(len(rest) * DEEPEN_SHRINK)]
                if not new + rest or not fit(len(new) + len(rest)):
                    self.log.append(
                        f"{len(fresh)} blocks not proven optimal: no time left to search them again"
                    )
                    return None
                fresh = sorted(new + rest)
            elif self.pass_estimate(len(fresh), budget) > self.work_cap():
                # units of this size would be abandoned at the deadline; the passes made
                # of units (the block relaxation, the deepening) are skipped as well
                self.too_large = True
                self.log.append(
                    f"{len(fresh)} blocks too large to re-plan within the time limit: skipped"
                )
                return None
            elif not self.affordable(len(fresh), budget):
                self.log.append(f"{len(fresh)} blocks: no time left to re-plan them")
                return None
        subs = [
            unit_context(base, (m, b.index), "fixed", owned, cost, batch="split")
            for m, bs in enumerate(base.blocks)
            for b in bs
        ]
        if base is self.ctx:
            # the blocks share the time by what they may still gain: the deepening by their
            # slack, the other passes by what their hint's instances cost
            if deepen:
                weights = [
                    self.unit_runs[keys[i]].gap() if keys[i] in self.unit_runs else None
                    for i in fresh
                ]
            else:
                stakes = self.stakes(hint_use)
                weights = [stakes.get(self.units[i], 0.0) for i in fresh]
            solved = self.run_all([subs[i] for i in fresh], budget, hint_use, weights)
            found = dict(zip(fresh, solved, strict=True))
            for i, r in found.items():
                old = self.unit_runs.get(keys[i])
                if r.status in ("optimal", "feasible") and (
                    old is None
                    or r.status == "optimal"
                    or (r.objective or 0.0) < (old.objective or 0.0) - 1e-9
                ):
                    self.unit_runs[keys[i]] = r
                elif old is not None:
                    found[i] = old
            runs = [found[i] if i in found else self.unit_runs[k] for i, k in enumerate(keys)]
        else:
            runs = self.run_all(
                subs, budget, _to_groups(base, hint_use) if base is not self.ctx else hint_use
            )
        failed = [i for i, r in enumerate(runs) if r.status not in ("optimal", "feasible")]
        whole: list[int] = []  # months whose batch work is placed the month whole
        if failed and any(runs[i].status == "infeasible" for i in failed):
            if not self.batch or base is not self.ctx:
                return None
            # a block may have no room for its share of the batch work (the services fill a
            # quota at their peak): those months' blocks again without it, and their batch
            # work placed the month whole (``place_batch``)
            whole = sorted({self.units[i][0] for i in failed if runs[i].status == "infeasible"})
            dropped = [i for i, u in enumerate(self.units) if u[0] in whole]
            again = self.run_all(
                [
                    unit_context(self.ctx, self.units[i], "fixed", owned, cost, batch="drop")
                    for i in dropped
                ],
                budget * 0.5,
                hint_use,
            )
            for i, r in zip(dropped, again, strict=True):
                runs[i] = r
            failed = [i for i, r in enumerate(runs) if r.status not in ("optimal", "feasible")]
            if any(runs[i].status == "infeasible" for i in failed):
                return None
        if failed and not self.out_of_time():  # hard units: once more, with more time
            retry = self.run_all(
                [subs[i] for i in failed], min(budget * 0.5, 1.0 * len(failed)), hint_use
            )
            for i, r in zip(failed, retry, strict=True):
                runs[i] = r
        if any(r.status not in ("optimal", "feasible") for r in runs):
            return None
        use: dict[UseKey, int] = {}
        for r in runs:
            use.update(r.use)
        if base is not self.ctx:
            use = _to_members(base, use)
        if whole:
            placed = self.place_batch(owned, cost, use, budget * 0.25, months=whole)
            if placed is None:
                return None
            use = placed
        proven = not whole and all(r.status == "optimal" for r in runs) and base is self.ctx
        over = self.over_budget(buys, use)
        if over:
            # blocks do not see a monthly budget: solve those months whole, from this plan
            months = [unit_context(self.ctx, (m, None), "fixed", owned, cost) for m in over]
            redo = self.run_all(months, max(0.2, budget * 0.5), use)
            if any(r.status not in ("optimal", "feasible") for r in redo):
                return None
            use = {k: v for k, v in use.items() if k[4] not in over}
            for r in redo:
                use.update(r.use)
            if self.over_budget(buys, use):
                return None
            proven = False
        priced = price_solution(
            self.ctx.plan, split_standard(self.ctx, use, buys), purchases_of(self.ctx, buys)
        )
        total = float(priced.exact_cost + priced.penalty)
        slack = sum(g for r in runs if (g := r.gap()) is not None)
        cand = Candidate(buys, use, total, proven, slack, groups=groups)
        if not deepen:
            self.evaluated.append(cand)
        return cand

    def probe(
        self,
        fresh: list[int],
        keys: list[tuple[Unit, tuple[tuple[str, int], ...]]],
        reservations: tuple[Mapping[tuple[str, int], int], tuple[Fraction, ...]],
        budget: float,
        hint_use: Mapping[UseKey, int],
    ) -> bool:
        """Before any unit has run, ``PROBE_BLOCKS`` of a pass's blocks ``fresh`` (spread
        over the plan) run at the limit the whole pass would give them, so that a pass is
        declared too large on calibrated estimates, not on the uncalibrated share (the L
        benchmark at 10 s: its first pass was estimated at 10.4 s of work, 5 s once
        calibrated; skipped, the run ended at 5.4 s with the spreadsheet's plan). Their
        plans are kept for the pass. False when the estimates are calibrated already or
        the probe does not fit."""
        k = min(len(fresh), PROBE_BLOCKS)
        share = budget * k / max(1, len(fresh))
        if self.units_estimated > 0 or k == 0 or not self.fits(self.pass_estimate(k, share)):
            return False
        picked = [fresh[(j * len(fresh)) // k] for j in range(k)]
        owned, cost = reservations
        subs = [
            unit_context(self.ctx, self.units[i], "fixed", owned, cost, batch="split")
            for i in picked
        ]
        for i, r in zip(picked, self.run_all(subs, share, hint_use), strict=True):
            if r.status in ("optimal", "feasible"):
                self.unit_runs[keys[i]] = r
        return self.units_estimated > 0

    def place_batch(
        self,
        owned: Mapping[tuple[str, int], int],
        cost: tuple[Fraction, ...],
        use: Mapping[UseKey, int],
        budget: float,
        months: list[int] | None = None,
    ) -> dict[UseKey, int] | None:
        """The batch work of each month placed again, the month whole (``batch="month"``):
        the services' instances held as they are (``SolveContext.fixed_use``), so the work
        runs where it costs least -- on the reservations they leave idle at night, on spot
        -- rather than each block doing its share of it, pro rata to its hours. Each month's
        model starts from the blocks' placement; a month not solved keeps it. Given
        ``months`` (whose blocks ran without their share: ``evaluate``), those months only,
        and None unless every one is solved."""
        strict = months is not None
        if months is None:
            months = self.batch_months()
        by_month: dict[int, dict[UseKey, int]] = defaultdict(dict)
        for k, v in use.items():
            by_month[k[4]][k] = v
        subs = [
            replace(
                unit_context(self.ctx, (m, None), "fixed", owned, cost, only=self.batch),
                fixed_use={k: v for k, v in by_month[m].items() if k[0] not in self.batch},
            )
            for m in months
        ]
        lanes = sum(len(self.ctx.lanes_of(w)) for w in self.batch)
        sizes = [float(lanes * len(self.ctx.blocks[m])) for m in months]
        placed = dict(use)
        for m, r in zip(months, self.run_all(subs, budget, use, sizes=sizes), strict=True):
            if r.status not in ("optimal", "feasible"):
                if strict:
                    return None
                continue
            for k in by_month[m]:
                if k[0] in self.batch:
                    del placed[k]
            placed.update(r.use)
        return placed

    def batch_budget(self, share: float) -> float:
        """The batch placement's time: ``share``, but each month's model at least
        ``BATCH_MONTH_S`` (``unit_limit``'s share inverted)."""
        least = len(self.batch_months()) * (BATCH_MONTH_S / 0.8 + UNIT_OVERHEAD_S) / self.threads
        return max(share, least)

    def batch_months(self) -> list[int]:
        """The months with batch work due."""
        plan = self.ctx.plan
        return [
            m
            for m in range(plan.horizon)
            if any(plan.demand[m].work.get(w, 0.0) > 0 for w in self.batch)
        ]

    def place_best_batch(self, budget: float) -> None:
        """The best plan with its batch work placed again (``place_batch``), kept if the
        verifier accepts it and it is cheaper; then its usage repriced (``reprice_best``)."""
        assert self.best is not None
        owned, cost = owned_by_month(self.ctx, self.best.buys)
        placed = self.place_batch(owned, cost, self.best.use, self.batch_budget(budget))
        assert placed is not None  # (a month not solved keeps the blocks' placement)
        cand = self.checked(self.best.buys, placed) if placed != self.best.use else None
        if self.consider(cand):
            assert cand is not None
            self.log.append(
                f"each month's batch work placed again, the month whole: plan {cand.cost:,.2f}"
            )
            if not self.stopped() and not self.past_safety_net():
                self.reprice_best()
        else:
            self.log.append("each month's batch work placed again, the month whole: no better plan")

    def stakes(self, use: Mapping[UseKey, int]) -> dict[Unit, float]:
        """What each block's instances in ``use`` cost at on-demand and spot prices (a
        previous plan's blocks and offerings that this plan does not have are left out)."""
        offerings = {o.id: o.offering for o in self.ctx.plan.offerings}
        billed = {(m, b.index): float(b.billed) for m, bs in enumerate(self.ctx.blocks) for b in bs}
        out: dict[Unit, float] = defaultdict(float)
        for (_w, t, z, kind, m, b), n in use.items():
            o = offerings.get(t)
            hours = billed.get((m, b))
            if o is None or hours is None:
                continue
            price = o.spot_hourly.get(z) if kind != STANDARD else o.on_demand_hourly
            out[(m, b)] += n * float(price or 0) * hours
        return out

    def over_budget(self, buys: Mapping[BuyKey, int], use: Mapping[UseKey, int]) -> list[int]:
        """Months whose cost breaks a hard monthly budget."""
        if not self.monthly_caps:
            return []
        priced = price_solution(
            self.ctx.plan, split_standard(self.ctx, use, buys), purchases_of(self.ctx, buys)
        )
        bad = set()
        for bud in self.monthly_caps:
            assert bud.monthly is not None
            for m, v in enumerate(priced.scope_costs.get(bud.name, [])):
                if v > Fraction(bud.monthly):
                    bad.add(m)
        return sorted(bad)

    def chain(
        self, budget: float, hint_use: Mapping[UseKey, int]
    ) -> tuple[dict[BuyKey, int], dict[UseKey, int]] | None:
        """Reservations chosen month by month, for plans whose months are small: each month's
        services, one at a time, planned for the whole month on the reservations bought in
        earlier months and by the services before it (free: already paid for), new ones
        rented at their monthly rate (``reservations="rent"`` with ``fixed_owned``); what a
        month rents is bought at its start, for the rest of its term. The month models of
        the relaxation choose the mix of sizes that fits each month's demand (the flat M
        benchmark's first month: 12xlarge, 8xlarge, 2xlarge and large, where the
        spreadsheet's plan runs one size per service), and the chain keeps what earlier
        months bought; then the reservations that serve that usage best. None when a model
        is too large (``CHAIN_MAX_VARIABLES``), the models' estimated work is over
        ``budget``, or one of them finds no plan. Batch workloads are left to the blocks."""
        ctx = self.ctx
        services = sorted(self.services)
        if not services or self.out_of_time():
            return None
        # each model's variables: the service's lanes, and for each of its offerings the
        # on-demand overflows per block and the reservations rented
        blocks = max(len(bs) for bs in ctx.blocks)
        sizes = []
        for w in services:
            lanes = [ln for ln in ctx.lanes if ln.workload == w]
            pools = [ctx.pools[t] for t in {ln.offering for ln in lanes} if t in ctx.pools]
            sizes.append(len(lanes) * blocks + sum(blocks + len(p.choices) for p in pools))
        if max(sizes) > CHAIN_MAX_VARIABLES:
            return None
        joint = self.unit_cost(CHAIN_MONTH_S, variables=sum(sizes)) if len(sizes) > 1 else 0.0
        estimate = self.calibrated(
            ctx.plan.horizon
            * (sum(self.unit_cost(CHAIN_UNIT_S, variables=n) for n in sizes) + joint)
        )
        if estimate > budget or not self.fits(estimate):
            self.log.append(
                f"chained plan skipped (estimated {estimate:.1f} s of work, more than its "
                f"{budget:.1f} s)"
            )
            return None
        buys: dict[BuyKey, int] = defaultdict(int)
        use: dict[UseKey, int] = {}
        before: dict[str, dict[str, int]] = {}  # last month's reserved instances, by service
        for m in range(ctx.plan.horizon):
            held: dict[UseKey, int] = {}  # the month's services planned so far
            for k, w in enumerate(services):
                owned, _ = owned_by_month(ctx, buys)
                # the reservations the services after this one ran last month stay theirs
                # (planned first, a service would take every free one, and the next rent
                # again what it had)
                for later in services[k + 1 :]:
                    for t, n in before.get(later, {}).items():
                        owned[(t, m)] = owned.get((t, m), 0) - n
                owned = {key: n for key, n in owned.items() if n > 0}
                sub = replace(
                    unit_context(ctx, (m, None), "rent", owned, only=frozenset({w})),
                    fixed_use=dict(held),
                )
                run = self.run_unit(sub, CHAIN_UNIT_S, hint_use)
                self.work += run.work
                self.units_estimated += self.unit_cost(CHAIN_UNIT_S, variables=sizes[k])
                self.units_measured += run.work
                if run.status not in ("optimal", "feasible"):
                    return None
                for (t, i, _s), n in run.rent.items():
                    if n:
                        buys[(t, i, m)] += n
                held.update((key, n) for key, n in run.use.items() if n)
            if len(services) > 1:
                # then the month's services together, from that plan (which the model's
                # symmetry breaking accepts once its zones are renamed): a reservation one
                # service had may serve another better (the flat M benchmark: $40,632 ->
                # $40,268, L $22,779 -> $22,421)
                rented = {key: n for key, n in buys.items() if key[2] == m}
                for key in rented:
                    del buys[key]
                owned, _ = owned_by_month(ctx, buys)
                sub = unit_context(ctx, (m, None), "rent", owned, only=frozenset(services))
                run = self.run_unit(
                    sub, CHAIN_MONTH_S, canonical_zones(ctx, held), hint_buy=by_option(ctx, rented)
                )
                self.work += run.work
                if run.status in ("optimal", "feasible"):
                    held = {key: n for key, n in run.use.items() if n}
                    rented = {(t, i, m): n for (t, i, _s), n in run.rent.items() if n}
                buys.update(rented)
            use.update(held)
            before = reserved_by_service(ctx, held, owned_by_month(ctx, buys)[0], m)
        # the reservations that serve that usage best (``schedule``: the same on the M and L
        # benchmarks, and the commitment cap kept, which the months, each alone, do not see)
        scheduled = self.schedule(use)
        return None if scheduled is None else (scheduled, use)

    def purchasable(self, buys: Mapping[BuyKey, int]) -> bool:
        """Whether ``buys`` may be bought: none starts before the lead time, and they keep
        the commitment cap in every month (what they commit an hour, upfront fees spread
        over their terms, as ``schedule.py`` and the verifier count it)."""
        if any(n and s not in purchase_months(self.ctx.plan) for (_t, _i, s), n in buys.items()):
            return False
        cap = self.ctx.plan.commitments.max_hourly
        if cap is None:
            return True
        hpm = self.ctx.plan.hours_per_month
        for m in range(self.ctx.plan.horizon):
            rate = Fraction(0)
            for (t, i, s), n in buys.items():
                c = self.ctx.pools[t].choices[i]
                if s <= m < s + c.term_months:
                    rate += n * Fraction(c.effective_hourly(hpm))
            if rate > Fraction(cap):
                return False
        return True

    def consider(self, cand: Candidate | None) -> bool:
        if cand is None:
            return False
        if self.best is None or cand.cost < self.best.cost - 1e-6:
            self.best = cand
            self.report()
            return True
        return False

    def consider_logged(self, cand: Candidate | None, what: str, nothing: str = "no plan") -> bool:
        """``consider``, and the log line ``what: <outcome>`` (`` (best)`` when it is)."""
        improved = self.consider(cand)
        self.log.append(
            f"{what}: " + (cand.outcome() if cand else nothing) + (" (best)" if improved else "")
        )
        return improved

    def checked(self, buys: dict[BuyKey, int], use: dict[UseKey, int]) -> Candidate | None:
        """A plan built outside CP-SAT, kept only if the independent verifier accepts it."""
        from capdsl.solve.solution import Solution
        from capdsl.solve.verify import verify

        plan = self.ctx.plan
        self.work += len(use) * CHECK_S_PER_ENTRY
        allocations = split_standard(self.ctx, use, buys)
        priced = price_solution(plan, allocations, purchases_of(self.ctx, buys))
        sol = Solution(
            plan=plan.name,
            status="feasible",
            # (with a soft budget's penalty, as ``solver.to_solution`` reports it: without it,
            # the verifier refused every plan overrunning a soft budget)
            objective=priced.totals.cost + to_cents(priced.penalty),
            allocations=allocations,
            **priced.solution_fields(),
        )
        if not verify(plan, sol).ok:
            return None
        return Candidate(buys, use, float(priced.exact_cost + priced.penalty), False)

    def spreadsheet(self, reserved: bool = False) -> tuple[dict[BuyKey, int], dict[UseKey, int]]:
        """The spreadsheet plan (``greedy.py``) on the lanes left after pruning, as
        reservations to evaluate and a hint for every block (``reserved``: each service's
        offering chosen for its cost with reservations)."""
        ctx = self.ctx
        allowed: dict[str, set[str]] = defaultdict(set)
        for ln in ctx.lanes:
            if ln.kind == STANDARD:
                allowed[ln.workload].add(ln.offering)
        allocations, purchases = greedy_counts(ctx.plan, dict(allowed), reserved, fewest=reserved)
        use: dict[UseKey, int] = defaultdict(int)
        for a in allocations:
            use[(a.workload, a.offering, a.zone, STANDARD, a.month, a.block)] += a.count
        buys: dict[BuyKey, int] = defaultdict(int)
        for p in purchases:
            pool = ctx.pools.get(p.offering)
            if pool is None or not pool.choices:
                continue
            same = [
                i
                for i, c in enumerate(pool.choices)
                if (c.term_months, c.payment, c.offering_class)
                == (p.term_months, p.payment, p.offering_class)
            ]
            by_term = [i for i, c in enumerate(pool.choices) if c.term_months == p.term_months]
            pick = (same or by_term or [0])[0]
            buys[(p.offering, pick, p.month)] += p.count
        return dict(buys), dict(use)

    def repriced(self, use: Mapping[UseKey, int]) -> Candidate | None:
        """The same usage with the reservations that serve it best (``schedule.py``: for one
        offering, the k-th reservation is bought when the k-th instance runs more than its
        break-even share of the term's hours); no block is re-planned, so it is quick."""
        buys = self.schedule(use)
        if buys is None:
            return None
        if self.best is not None and buys == self.best.buys and use == self.best.use:
            return None  # the best plan itself: not priced and verified again
        cand = self.checked(buys, dict(use))
        if cand is not None:
            cand.scheduled = True
        return cand

    def reprice_best(self) -> None:
        """The best plan's usage with the reservations that serve it best (``repriced``),
        kept when cheaper."""
        assert self.best is not None
        if self.best.scheduled:
            return  # its reservations already serve its usage best
        rc = self.repriced(self.best.use)
        if self.consider(rc):
            assert rc is not None
            self.log.append(
                f"best usage, {sum(rc.buys.values())} reservations rescheduled: plan {rc.cost:,.2f}"
            )

    def schedule(self, use: Mapping[UseKey, int]) -> dict[BuyKey, int] | None:
        self.work += len(use) * SCHEDULE_S_PER_ENTRY
        return schedule_reservations(
            self.ctx,
            usage_of(self.ctx, use),
            time_limit=max(0.05, min(2.0, self.time_limit * 0.04)),
            seed=self.seed,
        )

    def run(self, hint_use: Mapping[UseKey, int], hint_buys: dict[BuyKey, int] | None) -> None:
        """The phases, each with a fixed share of the time limit (never the time measured so
        far, which would make the result depend on the machine's speed):

        0. the lower bound from capacity prices, then from monthly LPs over instance
           families (``relax.aggregate_bound``), then the monthly LP relaxations when the
           months are small enough and their estimated work fits their share;
        1. a first plan: the previous plan's reservations (warm start), or the spreadsheet
           plan (each service on the offering cheapest with reservations) with the
           reservations that pay off for its usage (``repriced``), every block re-planned
           from it and made lean (``search.lean``); on plans of small months, the chained
           plan (``chain``), then each service's month alone (``service_bound``) and the
           plan mixed from the services' month plans (``mix``);
        2. without the LPs, the block relaxation (a bound, and a proposal of what to
           reserve);
        3. rounds: the best plan's usage repriced, then the blocks of the months whose
           reservations changed re-planned, while it changes and the deepening's share
           still fits after the round;
        4. when the rounds settle early and the time they leave fits it (with the work
           done), a second descent from no reservations (``descend_from_nothing``);
        5. the deepening: the blocks of the best plan not proven optimal, searched again
           from it (or of a plan with clearly more to gain: ``deepening_target``). Only a
           cheaper plan replaces the best one, so the result is never dearer than the
           spreadsheet plan it starts from; then each service alone in the blocks still
           not proven optimal, the other workloads held (``services_alone``);
        6. on a cold start, the work budget the search leaves (``spare``): the best plan's
           blocks not proven optimal searched again while that gains, as many as fit in it,
           those with the most slack first (the M benchmark at 10 s: $66,909 -> $66,669;
           seasonal-ecommerce at 20 s $9,540 -> $9,515), then the integer floors, for the
           bound; on plans of one level a month, the services' months alone (a bound), the
           services' month plans mixed again while that gains, and, when the work left fits
           ``PRICE_MIN_ROUNDS`` rounds, column generation (``price_columns``: a bound that
           holds reservations for their term, and more month plans for the master);
        7. however the search ended (out of its work budget after any phase), the batch
           work of each month placed again, the month whole (``place_best_batch``).

        The work counted is what the units measured (``MonthRun.work``), the LPs' and
        floors' estimates and those of scheduling and checking plans; a pass of blocks
        estimated far over its share of the time (``PASS_OVERRUN``) runs in groups of
        similar blocks when that adds little capacity (``affordable_groups``), else block
        by block if the budget left allows."""
        self.search(hint_use, hint_buys)
        # the work budget the search leaves: the best plan's blocks not proven optimal
        # searched again while that gains, then more integer floors for the bound (not on a
        # warm start: a what-if should answer quickly, as in ``search``)
        cold = hint_buys is None
        while (
            cold
            and self.spare() >= self.time_limit * AGAIN_SHARE
            and self.best is not None
            and not self.best.proven
            and not self.closed()
            and not self.too_large
            and self.infeasible_unit is None
            and not self.out_of_time()
        ):
            cand = self.evaluate(
                self.best.buys, self.spare(), self.best.use, deepen=True, within=True
            )
            if not self.consider(cand):
                break
            self.log.append(
                f"blocks not proven optimal searched again, with the time left: "
                f"plan {self.best.cost:,.2f}"
            )
            if not self.out_of_time():
                self.reprice_best()
        idle = self.spare() if cold else 0.0
        if (
            idle > 0
            and self.floors_may_raise_the_bound()
            and (self.floor_search is None or not self.floor_search.done)
            and self.infeasible_unit is None
            and not self.closed()
            and not self.stopped()
            and self.floor_bound(idle)
        ):
            self.report()
        # then, with what the floors leave, the services' blocks alone (months of one
        # level: M with one level a month at 10 s, $39,917 -> $39,956; on XL the floors
        # leave nothing, and its 1,200 units in that time bounded less than the floors),
        # unless they ran after the chained plan (``search``: the columns of ``mix``)
        if (
            cold
            and self.spare() > 0
            and self.infeasible_unit is None
            and not self.closed()
            and not self.stopped()
            and self.service_bound(self.spare())
        ):
            self.report()
        # and while the services' month plans mixed gain, again, from the columns they made
        while (
            cold
            and self.mixed
            and self.spare() >= self.time_limit * AGAIN_SHARE
            and not self.closed()
            and not self.stopped()
            and not self.out_of_time()
        ):
            self.mixed = self.mix(self.spare() * MIX_AGAIN)
        # then columns priced by the master's LP duals (``price_columns``: a bound too), when
        # the time left fits enough rounds to matter (before the mix again, M with one level
        # a month at 10 s lost seed 4's plan from that: 0.94% -> 1.38%)
        if (
            cold
            and self.service_runs
            and self.spare() >= PRICE_MIN_ROUNDS * len(self.service_runs) * PRICE_UNIT_WORK
            and not self.closed()
            and not self.stopped()
            and not self.out_of_time()
        ):
            self.price_columns(self.spare())
        # the blocks did each their share of the batch work, pro rata to their hours; last,
        # each month's placed again, the month whole, and the reservations for that usage.
        # It runs even when the work counted is past the budget (a second or two on the
        # examples, for 2-7% of their cost: saas-growth at 10 s ended its deepening there),
        # unless stopped, infeasible, or the wall clock's safety net is hit
        if (
            self.batch
            and self.best is not None
            and self.infeasible_unit is None
            and not self.too_large
            and not self.stopped()
            and not self.past_safety_net()
        ):
            self.place_best_batch(self.time_limit * BATCH_SHARE)

    def search(self, hint_use: Mapping[UseKey, int], hint_buys: dict[BuyKey, int] | None) -> None:
        """Phases 0-5 of ``run``."""
        if self.stopped():
            return  # stopped before the start: no plan, not even the spreadsheet's
        T = self.time_limit
        from capdsl.solve.relax import capacity_bound

        # a weak bound at once (no model built), for a plan too large, or a time limit too
        # short, for the relaxations below to finish
        self.raise_lower(capacity_bound(self.ctx))
        self.log.append(f"bound from capacity prices: {self.lower:,.2f}")
        # the monthly LPs over instance families next (milliseconds; a bound close to the
        # full LPs' on plans of many instances)
        families = self.aggregate_bound(T * 0.1)
        self.report()  # a bound at once, before any plan (the LPs take seconds on large plans)
        # what whole instances cost each service, in that bound and the monthly LPs (unless
        # its LPs cost more than half the floors' time: ``FLOOR_LP_RATIO``)
        if (
            families
            and self.family_work <= T * FLOOR_SHARE * FLOOR_LP_RATIO
            and self.floor_bound(T * FLOOR_SHARE)
        ):
            self.report()
        # then the monthly LPs, when they are cheap enough (with the family bound) or the
        # only bound besides capacity prices: a few seconds at most, the bound known from
        # the start, and never cut short by a first pass that ran long on a slow machine
        lp = self.lp_bound(T * LP_SHARE, optional=families)
        if lp:
            self.report()
        lp = lp or families
        self.leaning = True
        if hint_buys is not None:
            if not self.purchasable(hint_buys):
                # an edit moved the lead time or lowered the commitment cap under the
                # previous plan's purchases: the reservations that serve its usage instead
                hint_buys = self.schedule(hint_use) or {}
            self.consider(self.evaluate(hint_buys, T * 0.35, hint_use))
            self.log.append("warm start: the previous plan's reservations first")
        else:
            # the spreadsheet's usage, each service on the offering that costs least with
            # the reservations that pay off for it (not on demand: ``greedy._cheapest``), and
            # those reservations, priced as is. Rescheduling them for the same usage never
            # costs more, so the spreadsheet's own reservations are checked (by the
            # verifier: seconds on the XL plan) only when that fails
            buys, use = self.spreadsheet(reserved=True)
            hint_use = use
            rc = self.repriced(use)
            if self.consider(rc):
                assert rc is not None
                buys = rc.buys
                self.log.append(
                    "start from the spreadsheet plan, each service on the offering cheapest "
                    f"with reservations: its usage, {sum(buys.values())} reservations "
                    f"rescheduled: plan {rc.cost:,.2f}"
                )
            else:
                if not self.purchasable(buys):
                    # the spreadsheet reserves without the commitment cap; its reservations
                    # would go on to every block (and the plan fail verification at the end)
                    buys = {}
                cand = self.checked(buys, use)
                self.consider(cand)
                self.log.append(
                    "start from the spreadsheet plan: "
                    + (f"plan {cand.cost:,.2f}" if cand else "infeasible")
                )
            better = self.evaluate(buys, T * FIRST_SHARE, use)
            self.consider(better)
            self.log.append(
                "its reservations, every block re-planned: "
                + (better.outcome() if better else "no plan")
            )
            chained = self.chain(T * CHAIN_SHARE, self.best.use if self.best else use)
            if chained is not None and not self.out_of_time():
                self.consider_logged(
                    self.evaluate(chained[0], T * CHAIN_SHARE, chained[1]),
                    f"chained plan, month by month ({sum(chained[0].values())} reservations), "
                    "blocks re-planned",
                )
                # then each service's month alone (a bound), and a plan mixed from the
                # services' month plans so far
                if self.service_bound(T * SERVICE_SHARE):
                    self.report()
                self.mixed = self.mix(min(T * MIX_SHARE, self.spare()))
        self.leaning = False
        if self.too_large and self.floor_bound(T * FLOOR_IDLE_SHARE):
            # the blocks cannot be re-planned, so the search ends here: the time it leaves
            # goes to the floors
            self.report()
        if self.out_of_time():
            return
        # the block relaxation: a bound when the LPs give none, and what to reserve, tried
        # once the rounds settle
        rented = {} if lp else self.bound(T * 0.15, hint_use)
        self.report()
        if self.infeasible_unit is not None or self.out_of_time():
            return
        # rounds: the best plan's usage with the reservations that serve it best (priced
        # as is, so never dearer), then the blocks whose month's reservations changed
        # re-planned from the best plan; once that settles, the reservations the relaxation
        # proposes, once
        seen: list[dict[BuyKey, int]] = [self.best.buys] if self.best else []
        proposal: Mapping[UseKey, int] | None = rented or None
        unused = 0.0  # shares of rounds not run go to a second descent, else the deepening
        shares = list(ROUND_SHARES)
        for k, share in enumerate(shares):
            unused = sum(shares[k:])
            if self.out_of_time() or self.best is None:
                break
            self.reprice_best()
            buys = self.best.buys
            how = "best plan's"
            if buys in seen and proposal is not None:
                buys = self.schedule(proposal) or {}
                proposal = None
                how = "relaxation's"
            if buys in seen:
                break
            if not self.fits(self.pass_work(share) + self.pass_work(DEEPEN_SHARE)):
                # the deepening gains more than a further round (the M and L benchmarks);
                # its time is kept
                self.log.append("no further round: its time goes to the deepening")
                break
            seen.append(buys)
            self.consider_logged(
                self.evaluate(buys, T * share, self.best.use),
                f"{sum(buys.values())} reservations ({how}), blocks re-planned",
            )
            unused = sum(shares[k + 1 :])
        # a second descent, with the rounds' time left, from no reservations at all. The
        # first starts from the spreadsheet's reservations, and a reservation owned is free
        # to every block that can run it, so that descent keeps reservations a cheaper plan
        # would not buy; from below, the blocks run what on-demand and spot prices favour,
        # and only what pays off for that usage is reserved (then the blocks again)
        # (not on a warm start: the previous plan's reservations are the better start for a
        # what-if, and a what-if should answer quickly). It runs even when every block is
        # optimal for the reservations so far, which says nothing of other reservations;
        # only a plan that meets the lower bound is done (data-pipelines: once skipped at a
        # 32% gap, the descent then found a plan 25% cheaper)
        if (
            unused > 0
            and hint_buys is None
            and not self.mixed
            and self.best is not None
            and not self.closed()
            and not self.too_large
            and not self.out_of_time()
            and self.fits(self.pass_work(unused / DESCENT_STEPS, DESCENT_STEPS))
        ):
            self.descend_from_nothing(T * unused, seen)
            unused = 0.0
        # deepening: the blocks of the best plan not proven optimal, searched again from it
        if (
            self.best is not None
            and not self.best.proven
            and not self.closed()
            and not self.too_large
            and not self.out_of_time()
        ):
            target = self.deepening_target()
            logged = len(self.log)
            cand = self.evaluate(
                target.buys,
                T * (DEEPEN_SHARE + unused - (BATCH_SHARE if self.batch else 0.0)),
                target.use,
                deepen=True,
            )
            which = "" if target is self.best else f" (of the plan of {target.cost:,.2f})"
            if self.consider(cand):
                self.log.append(
                    f"blocks not proven optimal searched again{which}: plan {self.best.cost:,.2f}"
                )
            elif len(self.log) == logged:  # (else it says why it did not run)
                self.log.append(f"blocks not proven optimal searched again{which}: no better plan")
            # its usage with the reservations that serve it best: priced as is (a schedule
            # and a verification), never dearer
            if not self.out_of_time():
                self.reprice_best()
        # then each service alone in the best plan's blocks not proven optimal
        if (
            self.best is not None
            and not self.best.proven
            and not self.closed()
            and self.infeasible_unit is None
            and self.services_alone(self.alone_budget())
        ):
            self.report()

    def alone_budget(self) -> float:
        """The work for ``services_alone``: ``ALONE_SHARE`` of the limit, at most the work
        left with the idle margin; all the work left when the blocks are too large to
        re-plan (no deepening runs then: the XL benchmark with daily shapes at 60 s,
        $1,036,491 -> $1,027,402, where the floors after it raised the bound by $197)."""
        if self.too_large:
            return self.spare()
        return min(self.time_limit * ALONE_SHARE, self.spare() + IDLE_MARGIN * self.work_cap())

    def services_alone(self, budget: float) -> bool:
        """The best plan's blocks not proven optimal for its reservations, re-planned one
        service at a time: each service's instances in those blocks searched alone, the
        other workloads' held as they are (``SolveContext.fixed_use``: they draw on the
        reservations owned and count in the quotas first). A block of every service's lanes
        is often left unproven in its time, where one service's is proven in milliseconds;
        a service's new plan of a block is kept only when proven optimal, so no dearer than
        its old one beside the same others. The services in turn (the costliest first: the
        budget may not reach them all), each seeing the others' plans so far; the plan is
        then checked whole, and its usage gets the reservations that serve it best. True if
        that gave the best plan."""
        best = self.best
        ctx = self.ctx
        if best is None or len(self.services) + len(self.batch) < 2 or self.out_of_time():
            return False
        owned, cost = owned_by_month(ctx, best.buys)
        signature = owned_signatures(owned, ctx.horizon)
        units = [
            u
            for u in self.units
            if (r := self.unit_runs.get((u, signature[u[0]]))) is None or r.status != "optimal"
        ]
        if not units:
            return False
        by_unit: dict[Unit, dict[UseKey, int]] = defaultdict(dict)
        for key, v in best.use.items():
            if v:
                by_unit[(key[4], key[5])][key] = v
        stakes: dict[str, float] = defaultdict(float)
        offerings = {o.id: o.offering for o in ctx.plan.offerings}
        for (w, t, _z, _kind, _m, _b), n in best.use.items():
            stakes[w] += n * float(offerings[t].on_demand_hourly or 0)
        lanes: dict[str, int] = defaultdict(int)
        for ln in ctx.lanes:
            lanes[ln.workload] += 1
        services = sorted(self.services, key=lambda w: (-stakes[w], w))
        start = self.work
        changed = 0
        for i, w in enumerate(services):
            left = budget - (self.work - start)
            share = left / (len(services) - i)
            per = self.unit_limit(len(units), share)
            estimate = self.calibrated(
                len(units) * self.unit_cost(per, variables=lanes[w]) / self.threads
            )
            if estimate > left or not self.fits(estimate) or self.out_of_time():
                break
            subs = [
                replace(
                    unit_context(ctx, u, "fixed", owned, cost, batch="drop", only=frozenset({w})),
                    fixed_use={key: n for key, n in by_unit[u].items() if key[0] != w},
                )
                for u in units
            ]
            hint = {key: n for u in units for key, n in by_unit[u].items() if key[0] == w}
            runs = self.run_all(subs, share, hint, sizes=[float(lanes[w])] * len(subs))
            if self.stopped():
                return False
            for u, r in zip(units, runs, strict=True):
                if r.status != "optimal":
                    continue
                mine = {key: n for key, n in r.use.items() if n}
                old = {key: n for key, n in by_unit[u].items() if key[0] == w}
                if mine != old:
                    changed += 1
                    by_unit[u] = {key: n for key, n in by_unit[u].items() if key[0] != w}
                    by_unit[u].update(mine)
        if not changed:
            return False
        use = {key: n for part in by_unit.values() for key, n in part.items()}
        improved = self.consider_logged(
            self.checked(dict(best.buys), use),
            f"each service alone in the {len(units)} blocks not proven optimal, the other "
            "workloads held",
        )
        if improved and not self.out_of_time():
            self.reprice_best()
        return improved

    def deepening_target(self) -> Candidate:
        """The plan whose unproven blocks the deepening searches again: the best one, unless
        another re-planned plan could end clearly cheaper -- its cost less what searching its
        blocks could save at most (``slack``, from CP-SAT's bounds on them) below the best
        plan's by more than ``SWITCH_MARGIN`` of its cost (and costing at most ``SWITCH_MAX``
        times as much: a plan far above, its blocks cut short, has slack it will not
        realise). A plan reached from other reservations, with blocks searched less, can be
        the better start: the M benchmark at 60 s, $74,632 with $12,368 of slack against the
        best $73,614 with $2,783, deepened to $69,504 (the best plan deepened: $72,618).
        Block bounds without cuts are loose, hence the margin (the examples' alternatives
        within 0.3% lost 0.3-0.8%)."""
        assert self.best is not None
        best = self.best
        floor = best.cost - best.slack - SWITCH_MARGIN * best.cost
        others = [
            c
            for c in self.evaluated
            if c.cost - c.slack < floor and c.cost <= SWITCH_MAX * best.cost
        ]
        return min(others, key=lambda c: (c.cost - c.slack, c.cost)) if others else best

    def descend_from_nothing(self, budget: float, seen: list[dict[BuyKey, int]]) -> None:
        """Every block re-planned without reservations, then, while that changes them, the
        reservations that serve its usage best and the blocks re-planned for those; each
        evaluation gets a third of ``budget``. Abandoned when that usage with those
        reservations costs more than ``DESCENT_ABANDON`` times the best plan."""
        assert self.best is not None
        share = budget / DESCENT_STEPS
        cand = self.evaluate({}, share, self.best.use)
        self.consider_logged(cand, "second descent: no reservations, blocks re-planned")
        for _ in range(1, DESCENT_STEPS):
            if cand is None or self.out_of_time():
                return
            rc = self.repriced(cand.use)
            if rc is None or rc.buys in seen:
                return
            if rc.cost > DESCENT_ABANDON * self.best.cost:
                self.log.append(
                    f"its usage, {sum(rc.buys.values())} reservations: plan {rc.cost:,.2f}, "
                    "too far above the best to re-plan"
                )
                return
            seen.append(rc.buys)
            improved = self.consider(rc)
            cand = self.evaluate(rc.buys, share, cand.use)
            improved = self.consider(cand) or improved
            self.log.append(
                f"its usage, {sum(rc.buys.values())} reservations, blocks re-planned: "
                + (cand.outcome() if cand else "no plan")
                + (" (best)" if improved else "")
            )


def solve_decomposed(
    ctx: SolveContext,
    *,
    time_limit: float,
    seed: int,
    threads: int,
    stop: threading.Event | None,
    on_progress: Callable[[Progress], None] | None,
    hint_use: Mapping[UseKey, int],
    hint_buys: dict[BuyKey, int] | None,
    speed: float = 1.0,
) -> tuple[RunResult, Decomposer]:
    started = time.perf_counter()
    d = Decomposer(
        ctx,
        deadline=started + time_limit,
        speed=speed,
        seed=seed,
        threads=threads,
        stop=stop,
        on_progress=on_progress,
        started=started,
    )
    d.run(hint_use, hint_buys)
    wall = time.perf_counter() - started
    if d.infeasible_unit is not None:
        month = d.infeasible_unit[0]
        return RunResult(
            "infeasible",
            wall_s=wall,
            stopped_by="proof",
            workers=threads,
            message=f"no plan meets every constraint in {ctx.plan.months[month]}",
        ), d
    if d.best is None:
        why = "stop" if d.stopped() else "time limit"
        return RunResult(
            "unknown",
            wall_s=wall,
            stopped_by=why,
            workers=threads,
            bound=d.lower,
            message="stopped before any plan was found"
            if why == "stop"
            else f"no plan found within the time limit ({time_limit:g} s)",
        ), d
    proven = d.closed()
    res = RunResult(
        "optimal" if proven else "feasible",
        use=d.best.use,
        buy=d.best.buys,
        objective=d.best.cost,
        bound=d.lower,
        wall_s=wall,
        workers=threads,
        stopped_by="stop" if d.stopped() else "optimal" if proven else "decomposition rounds",
    )
    return res, d
