"""The network picture's data: nodes and edges, as the page's script
(Cytoscape.js) and its table alternative read them.

Built from rows the selectors have already split by the access policy:
a case the viewer may see is a named node linking to its case page; a case
they may not see is an anonymous node, one per link, with no id, reference,
name or anything else of the case, so two anonymous nodes can never be told
to be one young person, and nothing of an unseen case joins two contexts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.urls import reverse

ANONYMOUS_LABEL = "A young person not shared with your agency"


@functools.cache
def _href_pattern(name: str) -> str:
    # Reversed once: a page with 500 young people would otherwise resolve
    # the URL configuration 500 times.
    return reverse(name, args=[987654321]).replace("987654321", "{}")


def href(name: str, pk: int) -> str:
    return _href_pattern(name).format(int(pk))


@dataclass
class Node:
    id: str
    kind: str  # "context", "case" or "anonymous"
    label: str
    detail: str = ""
    href: str = ""
    risk: str = ""
    focus: bool = False

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "label": self.label, "detail": self.detail, "href": self.href,
                "risk": self.risk, "focus": self.focus}


@dataclass
class Edge:
    source: str
    target: str
    label: str

    def as_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "label": self.label}


@dataclass
class Network:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    _anonymous: int = 0
    _edge_keys: set = field(default_factory=set)

    def context(self, context, *, focus: bool = False) -> str:
        key = f"x{context.pk}"
        if key not in self.nodes:
            self.nodes[key] = Node(
                key, "context", context.name, detail=context.get_kind_display(),
                href=href("context-detail", context.pk), risk=context.risk_level, focus=focus,
            )
        elif focus:
            self.nodes[key].focus = True
        return key

    def case(self, case, *, focus: bool = False) -> str:
        """A case the viewer may see (a ``CaseRow``), named."""
        key = f"c{case.pk}"
        if key not in self.nodes:
            self.nodes[key] = Node(
                key, "case", case.display_name, detail=f"Case {case.reference}",
                href=href("case-detail", case.pk), risk=case.risk_level, focus=focus,
            )
        elif focus:
            self.nodes[key].focus = True
        return key

    def anonymous(self) -> str:
        self._anonymous += 1
        key = f"a{self._anonymous}"
        self.nodes[key] = Node(key, "anonymous", f"{ANONYMOUS_LABEL} ({self._anonymous})")
        return key

    def link(self, source: str, target: str, label: str) -> None:
        key = (min(source, target), max(source, target), label)
        if key in self._edge_keys:
            return
        self._edge_keys.add(key)
        self.edges.append(Edge(source, target, label))

    def as_dict(self) -> dict:
        return {"nodes": [n.as_dict() for n in self.nodes.values()], "edges": [e.as_dict() for e in self.edges]}

    def rows(self) -> list[dict]:
        """The table alternative: each node with what it is linked to."""
        joined: dict[str, list[str]] = {key: [] for key in self.nodes}
        for edge in self.edges:
            joined[edge.source].append(f"{self.nodes[edge.target].label} ({edge.label})")
            joined[edge.target].append(f"{self.nodes[edge.source].label} ({edge.label})")
        return [{"node": node, "links": sorted(joined[key])} for key, node in self.nodes.items()]
