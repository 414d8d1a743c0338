"""The queries that find definitions in the languages the symbol index parses with tree-sitter (which file is
in which language: the table in app/project/languages.py).

The grammar wheels ship `queries/tags.scm`, but those are uneven: Python's has no methods, C's no references,
Java's no enums or constants, TypeScript's only adds to JavaScript's, and several use predicates
(`#select-adjacent!`, `#strip!`) meant for other runtimes. So each language has its own query here, written
against the node types of the installed grammars (the tests parse a small project in each language).

Capture names: `@name` is the identifier node; `@def.KIND` the whole definition (its span gives end_line);
`@ref.KIND` a reference. A name node caught by several patterns keeps the first pattern's kind, so the more
specific patterns (a method inside a class) come before the general ones (any function).
"""

from __future__ import annotations

from app.project.languages import grammar_of

# The kinds a reader sees; anything else captured is a definition of that name.
REFERENCE = "reference"

PYTHON = r"""
(class_definition body: (block (function_definition name: (identifier) @name) @def.method))
(class_definition body: (block (decorated_definition
  definition: (function_definition name: (identifier) @name) @def.method)))
(class_definition name: (identifier) @name) @def.class
(function_definition name: (identifier) @name) @def.function
(module (expression_statement (assignment left: (identifier) @name) @def.variable))
(call function: (identifier) @name) @ref.call
(call function: (attribute attribute: (identifier) @name)) @ref.call
(decorator (identifier) @name @ref.call)
(decorator (attribute attribute: (identifier) @name @ref.call))
(class_definition superclasses: (argument_list (identifier) @name @ref.class))
(class_definition superclasses: (argument_list (attribute attribute: (identifier) @name @ref.class)))
"""

_JS_COMMON = r"""
(method_definition name: (property_identifier) @name) @def.method
(class_declaration name: (_) @name) @def.class
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(program (lexical_declaration (variable_declarator name: (identifier) @name
  value: [(arrow_function) (function_expression)]) @def.function))
(program (export_statement declaration: (lexical_declaration (variable_declarator name: (identifier) @name
  value: [(arrow_function) (function_expression)]) @def.function)))
(program (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable))
(program (export_statement declaration: (lexical_declaration
  (variable_declarator name: (identifier) @name) @def.variable)))
(program (variable_declaration (variable_declarator name: (identifier) @name
  value: [(arrow_function) (function_expression)]) @def.function))
(program (variable_declaration (variable_declarator name: (identifier) @name) @def.variable))
(assignment_expression left: (member_expression property: (property_identifier) @name)
  right: [(arrow_function) (function_expression)]) @def.function
(call_expression function: (identifier) @name) @ref.call
(call_expression function: (member_expression property: (property_identifier) @name)) @ref.call
(new_expression constructor: (identifier) @name) @ref.class
"""

JAVASCRIPT = (
    _JS_COMMON
    + r"""
(class_heritage (identifier) @name @ref.class)
"""
)

TYPESCRIPT = (
    r"""
(abstract_class_declaration name: (type_identifier) @name) @def.class
(interface_declaration name: (type_identifier) @name) @def.interface
(type_alias_declaration name: (type_identifier) @name) @def.type
(enum_declaration name: (identifier) @name) @def.type
(internal_module name: (identifier) @name) @def.module
(function_signature name: (identifier) @name) @def.function
(method_signature name: (property_identifier) @name) @def.method
(abstract_method_signature name: (property_identifier) @name) @def.method
"""
    + _JS_COMMON
    + r"""
(extends_clause value: (identifier) @name @ref.class)
(implements_clause (type_identifier) @name @ref.implementation)
(type_annotation (type_identifier) @name @ref.type)
"""
)

GO = r"""
(function_declaration name: (identifier) @name) @def.function
(method_declaration name: (field_identifier) @name) @def.method
(type_spec name: (type_identifier) @name type: (struct_type)) @def.class
(type_spec name: (type_identifier) @name type: (interface_type)) @def.interface
(type_spec name: (type_identifier) @name) @def.type
(type_alias name: (type_identifier) @name) @def.type
(source_file (const_declaration (const_spec name: (identifier) @name) @def.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @def.variable))
(source_file (var_declaration (var_spec_list (var_spec name: (identifier) @name) @def.variable)))
(call_expression function: (identifier) @name) @ref.call
(call_expression function: (selector_expression field: (field_identifier) @name)) @ref.call
(type_identifier) @name @ref.type
"""

RUST = r"""
(impl_item body: (declaration_list (function_item name: (identifier) @name) @def.method))
(trait_item body: (declaration_list (function_item name: (identifier) @name) @def.method))
(trait_item body: (declaration_list (function_signature_item name: (identifier) @name) @def.method))
(function_item name: (identifier) @name) @def.function
(struct_item name: (type_identifier) @name) @def.class
(enum_item name: (type_identifier) @name) @def.class
(union_item name: (type_identifier) @name) @def.class
(type_item name: (type_identifier) @name) @def.type
(trait_item name: (type_identifier) @name) @def.interface
(mod_item name: (identifier) @name) @def.module
(macro_definition name: (identifier) @name) @def.macro
(const_item name: (identifier) @name) @def.constant
(static_item name: (identifier) @name) @def.constant
(call_expression function: (identifier) @name) @ref.call
(call_expression function: (field_expression field: (field_identifier) @name)) @ref.call
(call_expression function: (scoped_identifier name: (identifier) @name)) @ref.call
(macro_invocation macro: (identifier) @name) @ref.call
(impl_item trait: (type_identifier) @name @ref.implementation)
(impl_item type: (type_identifier) @name @ref.implementation)
"""

JAVA = r"""
(class_declaration name: (identifier) @name) @def.class
(interface_declaration name: (identifier) @name) @def.interface
(enum_declaration name: (identifier) @name) @def.class
(record_declaration name: (identifier) @name) @def.class
(annotation_type_declaration name: (identifier) @name) @def.interface
(method_declaration name: (identifier) @name) @def.method
(constructor_declaration name: (identifier) @name) @def.method
(field_declaration declarator: (variable_declarator name: (identifier) @name)) @def.field
(method_invocation name: (identifier) @name) @ref.call
(object_creation_expression type: (type_identifier) @name) @ref.class
(superclass (type_identifier) @name @ref.class)
(super_interfaces (type_list (type_identifier) @name @ref.implementation))
"""

_C_COMMON = r"""
(function_definition declarator: (function_declarator declarator: (identifier) @name)) @def.function
(function_definition declarator: (pointer_declarator
  declarator: (function_declarator declarator: (identifier) @name))) @def.function
(function_definition declarator: (pointer_declarator declarator: (pointer_declarator
  declarator: (function_declarator declarator: (identifier) @name)))) @def.function
(translation_unit (declaration declarator: (function_declarator declarator: (identifier) @name)) @def.prototype)
(translation_unit (declaration declarator: (pointer_declarator
  declarator: (function_declarator declarator: (identifier) @name))) @def.prototype)
(struct_specifier name: (type_identifier) @name body: (_)) @def.class
(union_specifier name: (type_identifier) @name body: (_)) @def.class
(enum_specifier name: (type_identifier) @name body: (_)) @def.type
(type_definition declarator: (type_identifier) @name) @def.type
(preproc_def name: (identifier) @name) @def.constant
(preproc_function_def name: (identifier) @name) @def.macro
(translation_unit (declaration declarator: (init_declarator declarator: (identifier) @name)) @def.variable)
(call_expression function: (identifier) @name) @ref.call
(call_expression function: (field_expression field: (field_identifier) @name)) @ref.call
(type_identifier) @name @ref.type
"""

C = _C_COMMON

CPP = (
    r"""
(function_definition declarator: (function_declarator
  declarator: (qualified_identifier name: (identifier) @name))) @def.method
(function_definition declarator: (function_declarator declarator: (field_identifier) @name)) @def.method
(field_declaration declarator: (function_declarator declarator: (field_identifier) @name)) @def.method
(class_specifier name: (type_identifier) @name body: (_)) @def.class
(namespace_definition name: (namespace_identifier) @name) @def.module
"""
    + _C_COMMON
    + r"""
(call_expression function: (qualified_identifier name: (identifier) @name)) @ref.call
"""
)

QUERIES: dict[str, str] = {
    "python": PYTHON,
    "javascript": JAVASCRIPT,
    "typescript": TYPESCRIPT,
    "tsx": TYPESCRIPT,
    "go": GO,
    "rust": RUST,
    "java": JAVA,
    "c": C,
    "cpp": CPP,
}


# The index's name for the table's lookup (which grammar parses a path).
language_of = grammar_of


def load_language(name: str) -> object:
    """The grammar's `tree_sitter.Language`, imported only when a file of that language is parsed."""
    import tree_sitter

    if name == "python":
        import tree_sitter_python as grammar

        return tree_sitter.Language(grammar.language())
    if name == "javascript":
        import tree_sitter_javascript as grammar_js

        return tree_sitter.Language(grammar_js.language())
    if name in ("typescript", "tsx"):
        import tree_sitter_typescript as grammar_ts

        raw = grammar_ts.language_tsx() if name == "tsx" else grammar_ts.language_typescript()
        return tree_sitter.Language(raw)
    if name == "go":
        import tree_sitter_go as grammar_go

        return tree_sitter.Language(grammar_go.language())
    if name == "rust":
        import tree_sitter_rust as grammar_rust

        return tree_sitter.Language(grammar_rust.language())
    if name == "java":
        import tree_sitter_java as grammar_java

        return tree_sitter.Language(grammar_java.language())
    if name == "c":
        import tree_sitter_c as grammar_c

        return tree_sitter.Language(grammar_c.language())
    if name == "cpp":
        import tree_sitter_cpp as grammar_cpp

        return tree_sitter.Language(grammar_cpp.language())
    raise ValueError(f"no grammar for {name}")
