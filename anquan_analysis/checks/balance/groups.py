"""Groups of units joined by their significant pairs, and how a group's members and
months are written in a bulletin's sentence.

``join_pairs`` turns the pairs found by ``matching_series`` into groups: the
connected components of the graph of significant pairs, kept whole when every
two members are linked directly or through a common partner (diameter ≤ 2) or
more than half of the possible pairs are linked, and split into their maximal
cliques where a component chains on (A~B, B~C, C~D with A and D unrelated; two
groups joined by one pair), so that units far along a chain are not called one
group.  A real group whose pairs are each only just significant (agreement
within ±1 in 9 of 12 months) misses some of its pairs, but rarely half.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

# A component larger than this is split greedily (largest clique first), not by
# enumerating every maximal clique.
_MAX_EXACT_CLIQUES = 60


def join_pairs(a: np.ndarray, b: np.ndarray, weight: np.ndarray):
    """Groups of the nodes joined by the edges (a, b).

    Parameters
    ----------
    a, b : numpy.ndarray of int
        The two nodes of each edge (any integer ids).
    weight : numpy.ndarray of float
        Per edge, its q-value: the group's bottleneck is read from it.

    Returns
    -------
    list of (members, edges, bottleneck): the member node ids (sorted), the
    positions of the edges between members, and the position of the edge whose
    weight holds the group together (the largest weight on a minimum spanning
    tree of a component kept whole; the largest weight of a clique).
    """
    a, b, weight = np.asarray(a), np.asarray(b), np.asarray(weight, dtype=float)
    if not len(a):
        return []
    nodes, inv = np.unique(np.r_[a, b], return_inverse=True)
    ia, ib = inv[:len(a)], inv[len(a):]
    k = len(nodes)
    graph = coo_matrix((np.ones(len(a)), (ia, ib)), shape=(k, k))
    _, label = connected_components(graph, directed=False)
    edge_comp = label[ia]
    groups = []
    for comp in np.unique(label):  # one iteration per component of significant pairs
        local = np.flatnonzero(label == comp)
        edges = np.flatnonzero(edge_comp == comp)
        pos = np.full(k, -1)
        pos[local] = np.arange(len(local))
        adj = np.zeros((len(local), len(local)), dtype=bool)
        adj[pos[ia[edges]], pos[ib[edges]]] = True
        adj |= adj.T
        reach = adj | (adj.astype(np.int64) @ adj.astype(np.int64) > 0)
        np.fill_diagonal(reach, True)
        n_local = len(local)
        if reach.all() or len(edges) > n_local * (n_local - 1) / 4:
            groups.append((nodes[local], edges, edges[_bottleneck(
                pos[ia[edges]], pos[ib[edges]], weight[edges], len(local))]))
            continue
        for clique in _cliques(adj):
            inside = np.isin(pos[ia[edges]], clique) & np.isin(pos[ib[edges]], clique)
            e = edges[inside]
            groups.append((nodes[local[np.sort(clique)]], e, e[np.argmax(weight[e])]))
    return groups


def maximal_cliques(a: np.ndarray, b: np.ndarray, min_size: int = 3) -> list[np.ndarray]:
    """The maximal cliques of at least ``min_size`` nodes of the graph with edges
    (a, b), each as its sorted node ids: every set of nodes all linked to one
    another that no further node extends (``_cliques`` per connected component;
    a component too small to hold such a clique is skipped).

    ``matching_series`` tests each such clique of loosely agreeing pairs as one
    group (``agreement.group_agreement``)."""
    a, b = np.asarray(a), np.asarray(b)
    if not len(a):
        return []
    nodes, inv = np.unique(np.r_[a, b], return_inverse=True)
    ia, ib = inv[:len(a)], inv[len(a):]
    k = len(nodes)
    _, label = connected_components(coo_matrix((np.ones(len(a)), (ia, ib)), shape=(k, k)),
                                    directed=False)
    size = np.bincount(label)
    out = []
    for comp in np.flatnonzero(size >= min_size):  # components that can hold a clique
        local = np.flatnonzero(label == comp)
        pos = np.full(k, -1)
        pos[local] = np.arange(len(local))
        e = np.flatnonzero(label[ia] == comp)
        adj = np.zeros((len(local), len(local)), dtype=bool)
        adj[pos[ia[e]], pos[ib[e]]] = True
        adj |= adj.T
        np.fill_diagonal(adj, False)
        out += [nodes[local[c]] for c in _cliques(adj) if len(c) >= min_size]
    return out


def _bottleneck(ea, eb, w, n) -> int:
    """Position (among the edges given) of the largest weight on a minimum
    spanning tree: the level at which the component is connected.  Ranks stand
    for the weights (a spanning tree depends only on their order; a weight of 0
    would read as no edge)."""
    rank = np.empty(len(w))
    rank[np.argsort(w, kind="stable")] = np.arange(1, len(w) + 1)
    tree = minimum_spanning_tree(coo_matrix((rank, (ea, eb)), shape=(n, n))).tocoo()
    return int(np.argsort(w, kind="stable")[int(tree.data.max()) - 1])


def _cliques(adj: np.ndarray) -> list[np.ndarray]:
    """Maximal cliques (size ≥ 2) of a small graph: Bron–Kerbosch with pivoting;
    for a component above ``_MAX_EXACT_CLIQUES`` nodes, a greedy cover instead
    (take a largest-degree node's clique greedily, remove its edges, repeat)."""
    n = len(adj)
    nbrs = [set(np.flatnonzero(adj[i])) for i in range(n)]
    out: list[np.ndarray] = []
    if n <= _MAX_EXACT_CLIQUES:
        def expand(r, p, x):
            if not p and not x:
                if len(r) >= 2:
                    out.append(np.array(sorted(r)))
                return
            pivot = max(p | x, key=lambda u: len(nbrs[u] & p))
            for v in list(p - nbrs[pivot]):
                expand(r | {v}, p & nbrs[v], x & nbrs[v])
                p = p - {v}
                x = x | {v}
        expand(set(), set(range(n)), set())
        return out
    left = adj.copy()
    while left.any():
        start = int(np.argmax(left.sum(axis=1)))
        clique = [start]
        for v in np.argsort(-left[start].astype(int), kind="stable"):
            if left[start, v] and all(adj[v, c] for c in clique):
                clique.append(int(v))
        clique = np.array(sorted(clique))
        out.append(clique)
        left[np.ix_(clique, clique)] = False
    return out


# ----------------------------------------------------------------------- wording

def names_label(names, limit: int = 10) -> str:
    """Units named in a sentence: up to ``limit`` names joined by 、 (the count,
    said after them, tells how many there are)."""
    names = [str(x) for x in names]
    return "、".join(names[:limit])


def _freq(period: str) -> str:
    if len(period) == 7 and period[4] == "-":
        return "M"
    if len(period) == 6 and period[4] == "Q":
        return "Q"
    return ""


def count_word(periods) -> str:
    """The measure word for a count of periods: 个月, 个季度, else 期."""
    f = {_freq(str(p)) for p in periods}
    return {"M": "个月", "Q": "个季度"}.get(f.pop() if len(f) == 1 else "", "期")


def period_span(periods) -> str:
    """The window from its first to its last period as a bulletin writes it:
    2024年1—12月, 2023年11月—2024年10月, 2024年第1—4季度."""
    periods = [str(p) for p in periods]
    if not periods:
        return ""
    first, last = periods[0], periods[-1]
    f = _freq(first)
    if f != _freq(last) or not f:
        return first if first == last else f"{first}至{last}"
    y0, y1 = first[:4], last[:4]
    n0, n1 = int(first[5:]), int(last[5:])
    if f == "M":
        if first == last:
            return f"{y0}年{n0}月"
        return f"{y0}年{n0}—{n1}月" if y0 == y1 else f"{y0}年{n0}月—{y1}年{n1}月"
    if first == last:
        return f"{y0}年第{n0}季度"
    return f"{y0}年第{n0}—{n1}季度" if y0 == y1 else f"{y0}年第{n0}季度—{y1}年第{n1}季度"


def period_list(periods, *, with_year: bool = True) -> str:
    """Some periods, runs of consecutive ones joined: 2024年2—3、7月;
    2023年12月、2024年1—2月; without the year when ``with_year`` is False and all
    lie in one year (2—3、7月).  Other frequencies are listed as they are."""
    periods = sorted(str(p) for p in periods)
    if not periods:
        return ""
    f = {_freq(p) for p in periods}
    if len(f) != 1 or "" in f:
        return "、".join(periods)
    word = "月" if f == {"M"} else "季度"
    years = sorted({p[:4] for p in periods})
    parts = []
    for y in years:
        nums = [int(p[5:]) for p in periods if p[:4] == y]
        runs, start = [], nums[0]
        for prev, cur in zip(nums, nums[1:] + [None]):
            if cur != prev + 1:
                runs.append(str(start) if start == prev else f"{start}—{prev}")
                start = cur
        text = "、".join(runs)
        text = f"第{text}{word}" if word == "季度" else f"{text}{word}"
        parts.append(f"{y}年{text}" if with_year or len(years) > 1 else text)
    return "、".join(parts)
