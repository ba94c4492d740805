// Pave policy language grammar (SPEC §1.1–1.2, §2, §3, §4.1, §9.1).
//
// The generated parser is an implementation detail of compiler/syntax: the parse tree
// is converted to Pave's own AST at once and never escapes that folder.
grammar Pave;

file
    : namespaceDecl? useDecl* decl* EOF
    ;

namespaceDecl : NAMESPACE qualifiedName SEMI ;
useDecl       : USE qualifiedName (AS ident)? SEMI ;

decl
    : enumDecl
    | principalDecl
    | requestDecl
    | contextDecl
    | constDecl
    | defDecl
    | recordDecl
    | tableDecl
    | ruleDecl
    | testDecl
    ;

// ---- catalog schema (§2) -----------------------------------------------------------------

enumDecl      : ENUM ident LBRACE ident (COMMA ident)* COMMA? RBRACE ;
principalDecl : PRINCIPAL ident LBRACE attrList? RBRACE ;
contextDecl   : CONTEXT LBRACE attrList? RBRACE ;
requestDecl   : REQUEST ident (FOR qualifiedName (COMMA qualifiedName)*)? LBRACE requestMemberList? RBRACE ;

attrList      : attr (COMMA attr)* COMMA? ;
attr          : ident COLON type ;

requestMemberList : requestMember (COMMA requestMember)* COMMA? ;
requestMember
    : attr
    | GRANT ident COLON type ASSIGN expr MERGE mergeOp
    ;
mergeOp : ident | AND | OR ;

type : qualifiedName (LT type (COMMA type)* GT)? QUESTION? ;

constDecl : CONST ident COLON type ASSIGN expr SEMI ;
// Reference data (§2.3): a record type for table rows, and a table read at build time.
recordDecl : RECORD ident LBRACE attrList? RBRACE ;
tableDecl  : TABLE ident COLON type FROM STRING SEMI ;
defDecl   : DEF ident LPAREN (param (COMMA param)*)? RPAREN COLON type ASSIGN expr SEMI ;
param     : ident COLON type ;

// ---- rules (§3) --------------------------------------------------------------------------

ruleDecl   : annotation* effect ident (ON targets)? clause* SEMI ;
annotation : AT ident (LPAREN (expr (COMMA expr)*)? RPAREN)? ;
effect     : ALLOW | APPROVE | DENY | EXCEPTION ;
targets    : STAR | qualifiedName (COMMA qualifiedName)* ;

clause
    : WHEN expr                                           # whenClause
    | UNLESS expr                                         # unlessClause
    | BY expr (COMMA expr)* (QUORUM INT)?                 # byClause
    | GRANT grantAssign (COMMA grantAssign)*              # grantClause
    | BECAUSE STRING                                      # becauseClause
    | LIFTS qualifiedName                                 # liftsClause
    | UNTIL TIMESTAMP                                     # untilClause
    | OWNER STRING                                        # ownerClause
    | TICKET STRING                                       # ticketClause
    ;
grantAssign : ident ASSIGN expr ;

// ---- tests (§9.1) ------------------------------------------------------------------------

testDecl : TEST ident LBRACE testItem* RBRACE ;
testItem
    : REQUEST qualifiedName LBRACE fieldList? RBRACE       # testRequest
    | PRINCIPAL qualifiedName LBRACE fieldList? RBRACE     # testPrincipal
    | CONTEXT LBRACE fieldList? RBRACE                     # testContext
    | EXPECT EXCEPTION qualifiedName SEMI                  # expectException
    | EXPECT GRANT ident EQ testValue SEMI                 # expectGrant
    | EXPECT ERROR STRING SEMI                             # expectError
    | EXPECT (ALLOW | DENY | ident) (BY qualifiedName (COMMA qualifiedName)*)? SEMI  # expectDecision
    ;
fieldList  : field (COMMA field)* COMMA? ;
field      : ident COLON testValue ;
testValue  : mapLiteral | expr ;
mapLiteral : LBRACE (mapEntry (COMMA mapEntry)* COMMA?)? RBRACE ;
mapEntry   : STRING COLON expr ;

// ---- expressions (§4.1) ------------------------------------------------------------------

expr
    : IF expr THEN expr ELSE expr                         # ifExpr
    | orExpr                                              # plainExpr
    ;
orExpr  : andExpr (OR andExpr)* ;
andExpr : notExpr (AND notExpr)* ;
notExpr
    : NOT notExpr                                         # notOp
    | cmpExpr                                             # notPass
    ;
cmpExpr
    : addExpr ( cmpOp addExpr
              | IN addExpr
              | LIKE STRING
              | IS qualifiedName )?
    ;
cmpOp   : EQ | NE | LT | LE | GT | GE ;
addExpr : unaryExpr (addOp unaryExpr)* ;
addOp   : PLUS | MINUS ;
unaryExpr
    : MINUS unaryExpr                                     # negOp
    | postfixExpr                                         # unaryPass
    ;
postfixExpr : primary postfixOp* ;
postfixOp
    : DOT ident callArgs?                                 # memberOp
    | LBRACK expr RBRACK                                  # indexOp
    ;
callArgs : LPAREN (expr (COMMA expr)*)? RPAREN ;

primary
    : literal                                             # literalExpr
    | PRINCIPAL                                           # principalRoot
    | REQUEST                                             # requestRoot
    | CONTEXT                                             # contextRoot
    | qualifiedName callArgs?                             # nameExpr
    | LPAREN expr RPAREN                                  # parenExpr
    | LBRACK (expr (COMMA expr)* COMMA?)? RBRACK          # setExpr
    | HAS LPAREN postfixExpr RPAREN                       # hasExpr
    | (ANY | ALL) ident IN addExpr COLON expr             # quantExpr
    ;

literal : TRUE | FALSE | INT | STRING | DURATION | TIMESTAMP ;

qualifiedName : ident (DOT ident)* ;

// Contextual words are ordinary identifiers everywhere the grammar does not expect them.
ident
    : IDENT | ON | FOR | BY | QUORUM | GRANT | BECAUSE | LIFTS | UNTIL | OWNER | TICKET
    | MERGE | EXPECT | ERROR | MIN | MAX | UNION | INTERSECT | UNIQUE
    | RECORD | TABLE | FROM
    ;

// ---- lexer -------------------------------------------------------------------------------

// Reserved words.
NAMESPACE : 'namespace' ;
USE       : 'use' ;
AS        : 'as' ;
ENUM      : 'enum' ;
PRINCIPAL : 'principal' ;
REQUEST   : 'request' ;
CONTEXT   : 'context' ;
CONST     : 'const' ;
DEF       : 'def' ;
ALLOW     : 'allow' ;
APPROVE   : 'approve' ;
DENY      : 'deny' ;
EXCEPTION : 'exception' ;
WHEN      : 'when' ;
UNLESS    : 'unless' ;
AND       : 'and' ;
OR        : 'or' ;
NOT       : 'not' ;
IN        : 'in' ;
IS        : 'is' ;
LIKE      : 'like' ;
HAS       : 'has' ;
IF        : 'if' ;
THEN      : 'then' ;
ELSE      : 'else' ;
ANY       : 'any' ;
ALL       : 'all' ;
TRUE      : 'true' ;
FALSE     : 'false' ;
TEST      : 'test' ;

// Contextual words.
ON        : 'on' ;
FOR       : 'for' ;
BY        : 'by' ;
QUORUM    : 'quorum' ;
GRANT     : 'grant' ;
BECAUSE   : 'because' ;
LIFTS     : 'lifts' ;
UNTIL     : 'until' ;
OWNER     : 'owner' ;
TICKET    : 'ticket' ;
MERGE     : 'merge' ;
EXPECT    : 'expect' ;
ERROR     : 'error' ;
MIN       : 'min' ;
MAX       : 'max' ;
UNION     : 'union' ;
INTERSECT : 'intersect' ;
UNIQUE    : 'unique' ;
RECORD    : 'record' ;
TABLE     : 'table' ;
FROM      : 'from' ;

// Literals. A timestamp wins over `INT - INT` by being the longest match; its calendar
// validity and a duration's unit order are checked when the AST is built.
TIMESTAMP : DIGIT DIGIT DIGIT DIGIT '-' DIGIT DIGIT '-' DIGIT DIGIT
            ( 'T' DIGIT DIGIT ':' DIGIT DIGIT ':' DIGIT DIGIT 'Z' )? ;
DURATION  : (DIGIT+ [dhms])+ ;
// A number glued to letters (`15min`, `3x`) is one malformed literal, not two tokens.
BAD_NUMBER : DIGIT+ [a-zA-Z_] [a-zA-Z0-9_]* ;
INT       : DIGIT+ ;
STRING    : '"' ( ESC | ~["\\\r\n] )* '"' ;
UNTERMINATED_STRING : '"' ( ESC | ~["\\\r\n] )* ;

IDENT     : [A-Za-z_] [A-Za-z0-9_]* ;

EQ       : '==' ;
NE       : '!=' ;
LE       : '<=' ;
GE       : '>=' ;
LT       : '<' ;
GT       : '>' ;
ASSIGN   : '=' ;
PLUS     : '+' ;
MINUS    : '-' ;
STAR     : '*' ;
DOT      : '.' ;
COMMA    : ',' ;
COLON    : ':' ;
SEMI     : ';' ;
QUESTION : '?' ;
AT       : '@' ;
LPAREN   : '(' ;
RPAREN   : ')' ;
LBRACE   : '{' ;
RBRACE   : '}' ;
LBRACK   : '[' ;
RBRACK   : ']' ;

DOC_COMMENT  : '///' ~[\r\n]* -> channel(2) ;
LINE_COMMENT : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
// Text to the end of the file that never closes: `/*` without a later `*/`.
UNTERMINATED_COMMENT : '/*' ( ~'*' | '*'+ ~[*/] )* '*'* EOF ;
WS : [ \t\r\n\f]+ -> channel(HIDDEN) ;

// Anything else is one bad character; the parser reports it.
BAD_CHAR : . ;

fragment DIGIT : [0-9] ;
fragment ESC   : '\\' ~[\r\n] ;
