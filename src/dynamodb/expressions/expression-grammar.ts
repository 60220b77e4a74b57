/**
 * The peggy grammar of DynamoDB's expression languages (developer guide, "Condition and filter
 * expressions", "Update expressions", "Projection expressions"). One grammar, three entry
 * points; key condition expressions use the condition entry and are narrowed afterwards
 * (key-condition-builder.ts). Precedence, lowest first, as the guide lists it: OR, AND, NOT,
 * then the predicates (comparisons, BETWEEN, IN, functions) and parentheses. Keywords are
 * case-insensitive; function names are parsed as identifiers and checked by the builders.
 * The value of a SET may be parenthesised, as may its operands: SET a = (a + :one).
 * The tree it builds is described in raw-syntax.ts.
 */
export const expressionGrammar = String.raw`
{{
  function foldBinary(type, head, tail) {
    return tail.reduce((left, right) => ({ type, left, right }), head);
  }
}}

condition = _ c:orCondition _ { return c; }
update = _ head:clause tail:(_ c:clause { return c; })* _ { return { clauses: [head, ...tail] }; }
projection = _ head:path tail:(_ "," _ p:path { return p; })* _ { return [head, ...tail]; }

orCondition = head:andCondition tail:(_ OR _ c:andCondition { return c; })* { return foldBinary("or", head, tail); }
andCondition = head:notCondition tail:(_ AND _ c:notCondition { return c; })* { return foldBinary("and", head, tail); }
notCondition
  = NOT _ c:notCondition { return { type: "not", condition: c }; }
  / predicate

predicate
  = "(" _ c:orCondition _ ")" { return { type: "parens", condition: c }; }
  / operand:operand _ BETWEEN _ low:operand _ AND _ high:operand { return { type: "between", operand, low, high }; }
  / operand:operand _ IN _ "(" _ list:operandList _ ")" { return { type: "in", operand, list }; }
  / left:operand _ op:comparator _ right:operand { return { type: "compare", op, left, right }; }
  / call:call { return { type: "function", call }; }

comparator = "<>" / "<=" / ">=" / "=" / "<" / ">"

operandList = head:operand tail:(_ "," _ o:operand { return o; })* { return [head, ...tail]; }
operand = call / path / value
call = name:identifier _ "(" _ args:operandList? _ ")" { return { type: "call", name, args: args ?? [] }; }
value = ":" name:$[a-zA-Z0-9_]+ { return { type: "value", ref: ":" + name }; }

path = head:pathHead tail:pathTail* { return { type: "path", elements: [head, ...tail] }; }
pathHead
  = "#" name:$[a-zA-Z0-9_]+ { return { kind: "placeholder", placeholder: "#" + name }; }
  / name:identifier { return { kind: "name", name }; }
pathTail
  = _ "." _ element:pathHead { return element; }
  / _ "[" _ digits:$[0-9]+ _ "]" { return { kind: "index", index: Number(digits) }; }
identifier = $([a-zA-Z_] [a-zA-Z0-9_]*)

clause
  = SET _ head:setAction tail:(_ "," _ a:setAction { return a; })* { return { type: "SET", actions: [head, ...tail] }; }
  / REMOVE _ head:path tail:(_ "," _ p:path { return p; })* { return { type: "REMOVE", paths: [head, ...tail] }; }
  / ADD _ head:addAction tail:(_ "," _ a:addAction { return a; })* { return { type: "ADD", actions: [head, ...tail] }; }
  / DELETE _ head:addAction tail:(_ "," _ a:addAction { return a; })* { return { type: "DELETE", actions: [head, ...tail] }; }
setAction = path:path _ "=" _ value:setValue { return { path, value }; }
setValue
  = left:setOperand _ sign:[+-] _ right:setOperand { return { type: sign === "+" ? "plus" : "minus", left, right }; }
  / "(" _ value:setValue _ ")" { return value; }
  / operand:setOperand { return { type: "operand", operand }; }
setOperand
  = "(" _ operand:setOperand _ ")" { return operand; }
  / operand
addAction = path:path _ value:operand { return { path, value }; }

AND = "AND"i ![a-zA-Z0-9_]
OR = "OR"i ![a-zA-Z0-9_]
NOT = "NOT"i ![a-zA-Z0-9_]
BETWEEN = "BETWEEN"i ![a-zA-Z0-9_]
IN = "IN"i ![a-zA-Z0-9_]
SET = "SET"i ![a-zA-Z0-9_]
REMOVE = "REMOVE"i ![a-zA-Z0-9_]
ADD = "ADD"i ![a-zA-Z0-9_]
DELETE = "DELETE"i ![a-zA-Z0-9_]

_ "whitespace" = [ \t\r\n]*
`;
