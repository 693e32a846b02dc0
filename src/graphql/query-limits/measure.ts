import { Kind, Lexer, Source, TokenKind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/**
 * Whether `source` has more than `max` tokens before its end or its first lexical error, lexing
 * at most `max + 1` tokens, as graphql-js's parser counts them (comments are not tokens).
 * Asked only after a parse failed, to tell the token limit from an ordinary syntax error.
 */
export function hasMoreTokensThan(source: string, max: number): boolean {
  const lexer = new Lexer(new Source(source));
  try {
    for (let count = 0; count <= max; count++) {
      if (lexer.advance().kind === TokenKind.EOF) return false;
    }
    return true;
  } catch {
    return false; // a lexical error comes first: the parser reported that, not the limit
  }
}

/**
 * The largest number of selections any operation of `document` makes with its fragment spreads
 * expanded, counted as Apollo Server's `maxRecursiveSelections` rule counts them (each fragment's
 * count is computed once). That rule only says the limit was exceeded; this gives the figure.
 * A fragment cycle (refused by graphql-js in the same validation pass) counts once instead of
 * looping; recursion is as deep as the document, which `maxTokens` has already bounded.
 */
export function recursiveSelections(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fragmentCounts = new Map<string, number>();
  const count = (selectionSet: SelectionSetNode): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      total += 1;
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment && !fragmentCounts.has(name)) {
          fragmentCounts.set(name, 0); // a cycle counts the fragment once
          fragmentCounts.set(name, count(fragment.selectionSet));
        }
        total += fragmentCounts.get(name) ?? 0;
      } else if (selection.selectionSet) {
        total += count(selection.selectionSet);
      }
    }
    return total;
  };
  let largest = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) largest = Math.max(largest, count(definition.selectionSet));
  }
  return largest;
}
