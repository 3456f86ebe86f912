"""Scenario schema, loading and validation.

A scenario is data: one YAML file checked against the pydantic models of this package, one
module per section of the file (``streetmap``, ``staff``, ``demand``, ``evaluation``,
``enforcement``; ``model`` joins them into :class:`Scenario`; ``loading`` reads YAML and
overrides; ``resolved`` turns its paths and map source into values, once). Unknown keys and
out-of-range values are rejected, and every problem is reported at once, one line per
problem naming its field path (:class:`ScenarioError`).
"""

from sim.errors import ScenarioError as ScenarioError
from sim.overrides import parse_override as parse_override
from sim.overrides import read_yaml as read_yaml
from sim.overrides import set_by_path as set_by_path
from sim.scenario.base import ROLES as ROLES
from sim.scenario.base import Mode as Mode
from sim.scenario.base import clock_minutes as clock_minutes
from sim.scenario.base import hour_ranges as hour_ranges
from sim.scenario.base import window_minutes as window_minutes
from sim.scenario.demand import DEFAULT_CATEGORIES as DEFAULT_CATEGORIES
from sim.scenario.demand import DEFAULT_PROFILE as DEFAULT_PROFILE
from sim.scenario.demand import Camera as Camera
from sim.scenario.demand import Category as Category
from sim.scenario.demand import Citizen as Citizen
from sim.scenario.demand import Demand as Demand
from sim.scenario.demand import Density as Density
from sim.scenario.demand import Discovery as Discovery
from sim.scenario.demand import Hotspot as Hotspot
from sim.scenario.demand import Patrol as Patrol
from sim.scenario.demand import ScheduledIncident as ScheduledIncident
from sim.scenario.enforcement import DEFAULT_RUNGS as DEFAULT_RUNGS
from sim.scenario.enforcement import Campaign as Campaign
from sim.scenario.enforcement import Cases as Cases
from sim.scenario.enforcement import Court as Court
from sim.scenario.enforcement import Days as Days
from sim.scenario.enforcement import Deterrence as Deterrence
from sim.scenario.enforcement import Enforcement as Enforcement
from sim.scenario.enforcement import OffenderGroup as OffenderGroup
from sim.scenario.enforcement import Offenders as Offenders
from sim.scenario.enforcement import Rung as Rung
from sim.scenario.evaluation import DIGITAL_PARTS as DIGITAL_PARTS
from sim.scenario.evaluation import BureauWeights as BureauWeights
from sim.scenario.evaluation import DigitalWeights as DigitalWeights
from sim.scenario.evaluation import Escalation as Escalation
from sim.scenario.evaluation import Evaluation as Evaluation
from sim.scenario.evaluation import Fund as Fund
from sim.scenario.evaluation import GroupWeights as GroupWeights
from sim.scenario.evaluation import Inspection as Inspection
from sim.scenario.evaluation import OtherUnit as OtherUnit
from sim.scenario.evaluation import OutsideScore as OutsideScore
from sim.scenario.evaluation import SpecialWorkWeights as SpecialWorkWeights
from sim.scenario.evaluation import StreetOfficeWeights as StreetOfficeWeights
from sim.scenario.loading import load_scenario as load_scenario
from sim.scenario.loading import map_override as map_override
from sim.scenario.loading import problems_from as problems_from
from sim.scenario.loading import scenario_from_dict as scenario_from_dict
from sim.scenario.loading import with_overrides as with_overrides
from sim.scenario.model import MAX_DAYS as MAX_DAYS
from sim.scenario.model import MAX_WARMUP_HOURS as MAX_WARMUP_HOURS
from sim.scenario.model import Dispatch as Dispatch
from sim.scenario.model import Rules as Rules
from sim.scenario.model import RunLength as RunLength
from sim.scenario.model import Scenario as Scenario
from sim.scenario.model import file_fields as file_fields
from sim.scenario.model import json_schema as json_schema
from sim.scenario.resolved import DemandVolume as DemandVolume
from sim.scenario.resolved import MapFile as MapFile
from sim.scenario.resolved import MapSource as MapSource
from sim.scenario.resolved import ResolvedScenario as ResolvedScenario
from sim.scenario.resolved import demand_volume as demand_volume
from sim.scenario.resolved import resolve_scenario as resolve_scenario
from sim.scenario.staff import ALL_DAY as ALL_DAY
from sim.scenario.staff import ExplicitPosts as ExplicitPosts
from sim.scenario.staff import Post as Post
from sim.scenario.staff import RoleMix as RoleMix
from sim.scenario.staff import RoleShifts as RoleShifts
from sim.scenario.staff import RosterSpec as RosterSpec
from sim.scenario.staff import Shift as Shift
from sim.scenario.staff import Staff as Staff
from sim.scenario.streetmap import GeneratedMap as GeneratedMap
from sim.scenario.streetmap import InlineArea as InlineArea
from sim.scenario.streetmap import InlineEdge as InlineEdge
from sim.scenario.streetmap import InlineMap as InlineMap
from sim.scenario.streetmap import InlineNode as InlineNode
from sim.scenario.streetmap import MapCut as MapCut
from sim.scenario.streetmap import MapSpec as MapSpec
from sim.scenario.streetmap import OsmOffices as OsmOffices
from sim.scenario.streetmap import RoleModes as RoleModes
from sim.scenario.streetmap import Speeds as Speeds
from sim.scenario.streetmap import Travel as Travel
