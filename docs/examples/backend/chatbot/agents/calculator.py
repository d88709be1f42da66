"""A calculator tool that parses arithmetic and evaluates it node by node; never ``eval``.

Models are unreliable at arithmetic on long numbers (a 7-digit product, a compound
interest rate) and reliable at writing the expression. ``eval`` on model output is
remote code execution with extra steps; this walks a whitelist of AST nodes instead
and bounds the size of every intermediate result.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from chatbot.agents.tools import Tool, ToolContext, ToolError

Number = int | float

# [start:calculator]
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "floor": math.floor,
    "ceil": math.ceil,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
MAX_BITS = 4_096  # about 1,233 decimal digits: far past any business number
MAX_LENGTH = 500  # characters of expression
MAX_NODES = 200


def evaluate(expression: str) -> Number:
    """Evaluate arithmetic; raise :class:`ToolError` for anything else."""
    if len(expression) > MAX_LENGTH:
        raise ToolError(f"Expression longer than {MAX_LENGTH} characters; split it up.")
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise ToolError(f"Not an arithmetic expression: {exc.msg}.") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ToolError("Expression too complex; split it into steps.")
    try:
        return _eval(tree.body)
    except ZeroDivisionError:
        raise ToolError("Division by zero.") from None
    except (ValueError, OverflowError) as exc:  # sqrt(-1), exp(1000)
        raise ToolError(f"Math error: {exc}.") from None
    except TypeError:  # min(), round(1, 2, 3)
        raise ToolError("Wrong number of arguments to a function.") from None


def _eval(node: ast.expr) -> Number:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _bounded(node.value)
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _bounded(_UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _bounded(_BINARY[type(node.op)](left, right))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        args = [_eval(arg) for arg in node.args]
        return _bounded(_FUNCTIONS[node.func.id](*args))
    raise ToolError(
        f"Unsupported element: {ast.unparse(node)[:40]!r}. Use numbers and + - * / ** ( )."
    )


def _check_power(base: Number, exponent: Number) -> None:
    """Refuse 9**9**9 *before* computing it: the check after would never be reached."""
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1:
        if exponent * abs(base).bit_length() > MAX_BITS:
            raise ToolError("Result too large.")
    elif abs(exponent) > 10_000:
        raise ToolError("Exponent too large.")


def _bounded(value: Any) -> Number:
    if isinstance(value, complex):  # (-8) ** (1/3) is complex in Python
        raise ToolError("Result is a complex number.")
    if isinstance(value, int) and value.bit_length() > MAX_BITS:
        raise ToolError("Result too large.")
    if not isinstance(value, int | float):
        raise ToolError("Result is not a number.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError("Result is infinite or undefined.")
    return value


# [end:calculator]


class CalculatorArgs(BaseModel):
    """Evaluate an arithmetic expression exactly. Use it for any calculation with more
    than two digits instead of computing in your head. Supports + - * / // % ** ( ),
    sqrt, log, log10, exp, floor, ceil, abs, round, min, max, sin, cos, tan, pi, e."""

    expression: str = Field(description="For example: (1299.99 * 12) * (1 - 0.15)")


class CalculatorTool(Tool[CalculatorArgs]):
    name = "calculator"
    Args = CalculatorArgs
    timeout_s: ClassVar[float] = 1.0

    async def run(self, args: CalculatorArgs, ctx: ToolContext) -> str:
        result = evaluate(args.expression)
        if isinstance(result, float) and result.is_integer() and abs(result) < 2**53:
            result = int(result)
        return str(round(result, 10) if isinstance(result, float) else result)
