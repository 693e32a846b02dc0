/** A GraphQL request as a client POSTs it to `/graphql`. */
export interface GraphQLRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

export interface GraphQLResponse<TData = any> {
  status: number;
  headers: Headers;
  body: { data?: TData | null; errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[] };
}

/** POSTs `request` as JSON to the `/graphql` URL `url`, as every client of the API does. */
export async function postGraphQL<TData = any>(url: string, request: GraphQLRequest, headers: Record<string, string> = {}): Promise<GraphQLResponse<TData>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(request),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse<TData>['body'] };
}

/** `query` as the bearer of `token`: only the status and body, for comparing whole answers. */
export async function graphql(url: string, token: string, query: string): Promise<{ status: number; body: any }> {
  const { status, body } = await postGraphQL(url, { query }, { authorization: `Bearer ${token}` });
  return { status, body };
}
