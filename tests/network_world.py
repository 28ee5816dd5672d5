"""A small world for the network tests: four LSOAs of known IMD deciles, three directory
records, and a network of people with every consent level (imported from a CSV pair)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from shapely.geometry import box

from strengthmap.network import Viewer, import_network
from strengthmap.storage import Store, schema

#: LSOA 2021 codes on a 2 x 2 grid (A B / C D) and their IMD 2025 deciles.
AREAS = {"E01000001": 1, "E01000002": 2, "E01000003": 7, "E01000004": 9}
_BOXES = {
    "E01000001": box(-1.60, 53.80, -1.59, 53.81),
    "E01000002": box(-1.59, 53.80, -1.58, 53.81),
    "E01000003": box(-1.60, 53.79, -1.59, 53.80),
    "E01000004": box(-1.59, 53.79, -1.58, 53.80),
}
ORG = "0c6f2b8e-0000-4000-8000-000000000001"
SERVICE = "0c6f2b8e-0000-4000-8000-000000000002"
LOCATION = "0c6f2b8e-0000-4000-8000-000000000003"
LOCATION_2 = "0c6f2b8e-0000-4000-8000-000000000004"
ANN = "ann@example.org"  # the editor who adds the private people
#: People that only their editor (and admins) may see, and their names.
PRIVATE = {"dan": "Dan Private", "eve": "Eve Private"}
INTERNAL = {"cat": "Cat Internal"}

NODES = f"""id,kind,name,consent,area_code,role
amy,person,Amy Public,public,E01000001,community builder
ben,person,Ben Public,public,E01000003,connector
fay,person,Fay Public,public,E01000004,resident
gus,person,Gus Public,public,E01000002,resident
cat,person,Cat Internal,internal,E01000002,link worker
dan,person,Dan Private,private,E01000001,resident
eve,person,Eve Private,,E01000004,resident
{ORG},organization,,public,,
{SERVICE},service,,,,
{LOCATION},location,,,,
"""
EDGES = f"""source,target,type,weight,start,end,consent
amy,ben,meets_with,2,2020-01-01,,public
amy,{ORG},volunteers_at,1,2019-06-01,,public
ben,fay,meets_with,1,2021-03-01,2023-12-31,public
fay,gus,meets_with,1,2022-01-01,,public
{ORG},{SERVICE},runs,4,2018-01-01,,public
{SERVICE},{LOCATION},custom:meets at,1,,,public
cat,amy,refers_to,1,2022-05-01,,
cat,{SERVICE},refers_to,2,2022-05-01,,internal
dan,amy,meets_with,3,2021-01-01,,
dan,fay,meets_with,1,2021-01-01,,public
eve,ben,meets_with,1,2020-01-01,,
dan,{LOCATION_2},volunteers_at,1,2021-01-01,,public
amy,fay,partners_with,1,2020-01-01,,private
"""
#: The same network without anything private (what anonymous and signed-in users may see
#: must be exactly what they would see of this one).
NODES_NO_PRIVATE = (
    "\n".join(line for line in NODES.splitlines() if not line.startswith(("dan,", "eve,"))) + "\n"
)
EDGES_NO_PRIVATE = (
    "\n".join(
        line
        for line in EDGES.splitlines()
        if not line.startswith(("dan,", "eve,")) and not line.endswith(",private")
    )
    + "\n"
)


def add_places(store: Store) -> None:
    """The four LSOAs (with IMD 2025) and the directory records (location in area C)."""
    with store.transaction() as s:
        for code, decile in AREAS.items():
            geom = _BOXES[code]
            area = schema.Area(
                code=code,
                name=f"Test {code[-1]}",
                level="lsoa",
                vintage=2021,
                geometry=geom,
                min_lon=geom.bounds[0],
                min_lat=geom.bounds[1],
                max_lon=geom.bounds[2],
                max_lat=geom.bounds[3],
            )
            s.add(area)
            s.flush()
            s.add(
                schema.Deprivation(
                    release=2025,
                    area_id=area.id,
                    n_areas=33755,
                    imd_rank=decile * 3000,
                    imd_decile=decile,
                )
            )
        s.add(schema.Organization(id=ORG, name="Hall Trust", description=""))
        s.flush()
        s.add(schema.Service(id=SERVICE, name="Lunch club", organization_id=ORG))
        s.add(
            schema.Location(
                id=LOCATION, name="The Hall", latitude=53.795, longitude=-1.595, organization_id=ORG
            )
        )
        s.add(schema.Location(id=LOCATION_2, name="Annexe", latitude=53.805, longitude=-1.585))
        s.flush()
        s.add(schema.ServiceAtLocation(id="sal-1", service_id=SERVICE, location_id=LOCATION))


def write_pair(folder: Path, nodes: str = NODES, edges: str = EDGES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nodes.csv").write_text(nodes)
    (folder / "edges.csv").write_text(edges)
    return folder


def build(store: Store, folder: Path, *, private: bool = True) -> None:
    """The world in ``store``: places, then the network imported by the editor Ann."""
    add_places(store)
    pair = write_pair(folder, *(() if private else (NODES_NO_PRIVATE, EDGES_NO_PRIVATE)))
    import_network(store, pair, viewer=Viewer.editor(ANN), today=date(2025, 1, 15))
