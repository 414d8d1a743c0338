"""Named definitions of small real projects, one per language, found at the right lines by the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.context.index import SymbolIndex

PROJECTS: dict[str, tuple[str, str, list[tuple[str, str, int]]]] = {
    "python": (
        "shop/cart.py",
        '''import os

TAX_RATE = 0.2


class Cart:
    """A cart."""

    def __init__(self):
        self.items = []

    @property
    def total(self):
        return compute_total(self.items)


def compute_total(items):
    return sum(items) * (1 + TAX_RATE)
''',
        [
            ("TAX_RATE", "constant", 3),
            ("Cart", "class", 6),
            ("__init__", "method", 9),
            ("total", "method", 13),
            ("compute_total", "function", 17),
        ],
    ),
    "javascript": (
        "web/widget.js",
        """import { draw } from './draw.js';

export class Widget extends Base {
  render() {
    return draw(this);
  }
}

export function mount(el) {
  return new Widget(el);
}

const handler = (event) => event.target;
const LIMIT = 10;
""",
        [
            ("Widget", "class", 3),
            ("render", "method", 4),
            ("mount", "function", 9),
            ("handler", "function", 13),
            ("LIMIT", "constant", 14),
        ],
    ),
    "typescript": (
        "src/shapes.ts",
        """export interface Shape {
  area(): number;
}

export type Id = string;

export class Circle implements Shape {
  constructor(private r: number) {}
  area(): number {
    return square(this.r) * Math.PI;
  }
}

export function square(x: number): number {
  return x * x;
}

enum Color { Red, Green }
""",
        [
            ("Shape", "interface", 1),
            ("area", "method", 2),
            ("Id", "type", 5),
            ("Circle", "class", 7),
            ("area", "method", 9),
            ("square", "function", 14),
            ("Color", "type", 18),
        ],
    ),
    "tsx": (
        "src/Button.tsx",
        """import React from 'react';

export interface ButtonProps {
  label: string;
}

export function Button({ label }: ButtonProps) {
  return <button onClick={() => track(label)}>{label}</button>;
}

export const Icon = () => <span className="icon" />;
""",
        [("ButtonProps", "interface", 3), ("Button", "function", 7), ("Icon", "function", 11)],
    ),
    "go": (
        "geo/point.go",
        """package geo

const Origin = 0

type Point struct {
	X, Y int
}

type Shape interface {
	Area() float64
}

func (p Point) Area() float64 {
	return scale(p.X)
}

func scale(x int) float64 {
	return float64(x) * 2
}
""",
        [
            ("Origin", "constant", 3),
            ("Point", "class", 5),
            ("Shape", "interface", 9),
            ("Area", "method", 13),
            ("scale", "function", 17),
        ],
    ),
    "rust": (
        "src/lib.rs",
        """pub const MAX: usize = 8;

pub struct Stack {
    items: Vec<i32>,
}

pub trait Container {
    fn size(&self) -> usize;
}

impl Container for Stack {
    fn size(&self) -> usize {
        self.items.len()
    }
}

pub fn make_stack() -> Stack {
    Stack { items: Vec::new() }
}

macro_rules! square {
    ($x:expr) => { $x * $x };
}
""",
        [
            ("MAX", "constant", 1),
            ("Stack", "class", 3),
            ("Container", "interface", 7),
            ("size", "method", 8),
            ("size", "method", 12),
            ("make_stack", "function", 17),
            ("square", "macro", 21),
        ],
    ),
    "java": (
        "src/main/java/shop/Order.java",
        """package shop;

public class Order extends Entity implements Comparable<Order> {
    public static final int MAX_ITEMS = 50;

    public Order() {
    }

    @Override
    public int compareTo(Order other) {
        return Integer.compare(total(), other.total());
    }

    interface Listener {
        void changed(Order order);
    }
}
""",
        [
            ("Order", "class", 3),
            ("MAX_ITEMS", "constant", 4),
            ("Order", "method", 6),
            ("compareTo", "method", 10),
            ("Listener", "interface", 14),
            ("changed", "method", 15),
        ],
    ),
    "c": (
        "src/buffer.c",
        """#include <stdlib.h>

#define BUF_SIZE 64

struct buffer {
    char *data;
};

typedef struct buffer buffer_t;

static buffer_t *make_buffer(void)
{
    return calloc(1, sizeof(buffer_t));
}

int buffer_len(const buffer_t *b) {
    return b->data ? BUF_SIZE : 0;
}
""",
        [
            ("BUF_SIZE", "constant", 3),
            ("buffer", "class", 5),
            ("buffer_t", "type", 9),
            ("make_buffer", "function", 11),
            ("buffer_len", "function", 16),
        ],
    ),
    "cpp": (
        "src/shape.cpp",
        """#include <cmath>

namespace geo {

class Shape {
public:
    virtual double area() const;
    int sides() const { return 0; }
};

double Shape::area() const {
    return std::sqrt(2.0);
}

double scale(double x) {
    return x * 2;
}

}  // namespace geo
""",
        [
            ("geo", "module", 3),
            ("Shape", "class", 5),
            ("area", "method", 7),
            ("sides", "method", 8),
            ("area", "method", 11),
            ("scale", "function", 15),
        ],
    ),
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> SymbolIndex:
    root = tmp_path_factory.mktemp("polyglot")
    for relpath, source, _expected in PROJECTS.values():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source)
    (root / "notes" / "plan.txt").parent.mkdir()
    (root / "notes" / "plan.txt").write_text("The refund_window_days setting decides it.\n")
    return SymbolIndex.open(root)


@pytest.mark.parametrize("language", sorted(PROJECTS))
def test_definitions_are_found_at_their_lines(indexed: SymbolIndex, language: str) -> None:
    relpath, _source, expected = PROJECTS[language]
    outline = [(s.name, s.kind, s.line) for s in indexed.outline(relpath)]
    for definition in expected:
        assert definition in outline, f"{language}: {definition} not in {outline}"
    name, _kind, line = expected[-1]
    assert any(s.path == relpath and s.line == line for s in indexed.definitions(name))


def test_a_cpp_header_is_parsed_as_cpp(tmp_path: Path) -> None:
    (tmp_path / "point.h").write_text("#pragma once\nnamespace geo {\nclass Point {\n  int x;\n};\n}\n")
    (tmp_path / "plain.h").write_text("struct pair { int a; };\nint pair_sum(struct pair p);\n")
    with SymbolIndex.open(tmp_path) as index:
        assert [(s.name, s.kind, s.line) for s in index.outline("point.h")] == [
            ("geo", "module", 2),
            ("Point", "class", 3),
        ]
        assert [(s.name, s.kind) for s in index.outline("plain.h")] == [
            ("pair", "class"),
            ("pair_sum", "prototype"),
        ]


def test_spans_cover_the_whole_definition(indexed: SymbolIndex) -> None:
    [compute] = indexed.definitions("compute_total")
    assert (compute.line, compute.end_line) == (17, 18)
    [cart] = indexed.definitions("Cart")
    assert (cart.line, cart.end_line) == (6, 14)


def test_references_are_found(indexed: SymbolIndex) -> None:
    refs = indexed.references("compute_total")
    assert [(r.path, r.line) for r in refs] == [("shop/cart.py", 14)]
    assert [(r.path, r.line) for r in indexed.references("scale")] == [("geo/point.go", 14)]


def test_files_of_other_languages_still_get_their_identifiers(indexed: SymbolIndex) -> None:
    assert indexed.files_with_identifier("refund_window_days") == ["notes/plan.txt"]
    assert indexed.outline("notes/plan.txt") == []
