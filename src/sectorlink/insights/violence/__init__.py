"""Violence hotspots from A&E (ISTV), ambulance and police data: the Cardiff Model.

One small module per step, each a function over the analysis context's DuckDB
connection (so a notebook can call them on a context of its own):

* `events`: the violence events of each source (A&E assaults with their ISTV fields,
  ambulance call-outs for assault, police violence records), with a time and a place.
* `incidents`: one incident per assault, from the person index, time windows and place.
* `quality`: ISTV completeness per A&E site and month.
* `police_gap`: the share of A&E-seen assaults the police never recorded.
* `hotspots`: Getis-Ord Gi* over small areas, permutation inference, FDR.
* `profiles`: hour-of-week, named places, method by place type, monthly trend.
* `figures`: the offline map and heat map.

See docs/insights/violence.md.
"""

from sectorlink.insights.violence.events import EventRules, collect_events
from sectorlink.insights.violence.incidents import IncidentRules, build_incidents

__all__ = ["EventRules", "IncidentRules", "build_incidents", "collect_events"]
