/**
 * The OpenAPI description of the OAuth routes (src/http/oauth-routes.ts), spliced into
 * `/openapi.json` by src/http/openapi.ts.
 * @module
 */

const json = (schema: unknown) => ({ 'application/json': { schema } })
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const catalogueError = (description: string) => ({ description, content: json(ref('Error')) })
const oauthError = (description: string) => ({ description, content: json(ref('OAuthError')) })

const TOKEN_REQUEST = {
  type: 'object',
  required: ['grant_type'],
  properties: {
    grant_type: {
      type: 'string',
      enum: ['authorization_code', 'refresh_token', 'client_credentials', 'password'],
    },
    code: { type: 'string', description: 'authorization_code: the code of the redirect.' },
    redirect_uri: { type: 'string', description: 'authorization_code: the same as authorized.' },
    refresh_token: { type: 'string', description: 'refresh_token: one-time; rotated.' },
    username: { type: 'string', description: 'password: the account name or an agent email.' },
    password: {
      type: 'string',
      description: 'password: a bearer token of the account (owner or administrator).',
    },
    client_id: { type: 'string', description: 'Or HTTP Basic.' },
    client_secret: { type: 'string', description: 'Or HTTP Basic; optional for public clients.' },
    scope: { type: 'string', description: 'Space-separated: read, write, chat.' },
  },
}

const CLIENT_BODY = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    company: { type: 'string' },
    redirect_uris: {
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
      description: 'Space-separated absolute URLs (or an array).',
    },
    scopes: { type: 'string', description: '"read", "write" or "read write" (default).' },
    client_type: { type: 'string', enum: ['public', 'confidential'] },
  },
}

/** The component schemas of the OAuth routes. */
export function oauthSchemas(): Record<string, unknown> {
  return {
    OAuthError: {
      type: 'object',
      required: ['error', 'error_description'],
      description: 'RFC 6749 §5.2 (token endpoint only).',
      properties: {
        error: {
          type: 'string',
          enum: [
            'invalid_request',
            'invalid_client',
            'invalid_grant',
            'unauthorized_client',
            'unsupported_grant_type',
            'invalid_scope',
          ],
        },
        error_description: { type: 'string' },
      },
    },
    OAuthTokenResponse: {
      type: 'object',
      required: ['access_token', 'token_type', 'scope', 'expires_in'],
      properties: {
        access_token: { type: 'string' },
        token_type: { type: 'string', const: 'Bearer' },
        scope: { type: 'string' },
        refresh_token: { type: 'string', description: 'Absent for client_credentials.' },
        expires_in: { type: 'integer', description: 'Seconds (default 36000).' },
      },
    },
    OAuthClient: {
      type: 'object',
      required: ['id', 'name', 'client_identifier', 'client_type', 'redirect_uris', 'scopes'],
      properties: {
        id: { type: 'integer' },
        name: { type: 'string' },
        company: { type: 'string' },
        client_identifier: { type: 'string', description: 'The client_id.' },
        client_secret: { type: 'string', description: 'Only in the response of POST.' },
        client_type: { type: 'string', enum: ['public', 'confidential'] },
        redirect_uris: { type: 'string', description: 'Space-separated.' },
        scopes: { type: 'string' },
        agent_id: { type: 'null' },
        create_date: { type: 'string', format: 'date-time' },
        update_date: { type: 'string', format: 'date-time' },
      },
    },
    OAuthToken: {
      type: 'object',
      required: ['id', 'scopes', 'token_type', 'create_date', 'expire_date'],
      description: 'The token texts are not shown: only their hashes are stored.',
      properties: {
        id: { type: 'integer' },
        client_identifier: { type: ['string', 'null'] },
        scopes: { type: 'string' },
        token_type: { type: 'string', const: 'Bearer' },
        agent_id: { type: 'null' },
        create_date: { type: 'string', format: 'date-time' },
        expire_date: { type: ['string', 'null'], format: 'date-time' },
      },
    },
  }
}

const AUTHORIZE_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'subdomain',
].map((name) => ({
  name,
  in: 'query',
  required: name === 'client_id' || name === 'response_type',
  schema: { type: 'string' },
}))

/** The OAuth paths, both host styles and both API path shapes. */
export function oauthPaths(): Record<string, unknown> {
  const paths: Record<string, unknown> = {}
  for (const [path, name] of [
    ['/oauth2/token', 'oauth_token'],
    ['/oauth2/chat/token', 'oauth_chat_token'],
  ] as const) {
    paths[path] = {
      post: {
        operationId: name,
        summary:
          'Token endpoint (RFC 6749): authorization_code, refresh_token, client_credentials, password',
        tags: ['oauth'],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': { schema: TOKEN_REQUEST },
            'application/json': { schema: TOKEN_REQUEST },
          },
        },
        responses: {
          200: { description: 'A token.', content: json(ref('OAuthTokenResponse')) },
          400: oauthError(
            'invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope',
          ),
          401: oauthError('invalid_client'),
          405: catalogueError('Not POST: Werkzeug’s body.'),
        },
      },
    }
  }
  for (const [path, name] of [
    ['/oauth2/authorizations/new', 'oauth_authorize'],
    ['/oauth2/chat/authorizations/new', 'oauth_chat_authorize'],
  ] as const) {
    paths[path] = {
      get: {
        operationId: name,
        summary: 'Consent page (HTML) an account owner approves with an owner token',
        tags: ['oauth'],
        parameters: AUTHORIZE_PARAMS,
        responses: {
          200: { description: 'The consent form.', content: { 'text/html': {} } },
          302: { description: 'To redirect_uri with code and state (auto-approve), or error.' },
          400: { description: 'Unknown client_id or unregistered redirect_uri (no redirect).' },
        },
      },
      post: {
        operationId: `${name}_decide`,
        summary: 'The consent form’s answer: decision=approve with owner_token, or decision=deny',
        tags: ['oauth'],
        requestBody: {
          content: { 'application/x-www-form-urlencoded': { schema: { type: 'object' } } },
        },
        responses: {
          302: { description: 'To redirect_uri with code (approve) or error=access_denied.' },
          401: { description: 'The form again: not an owner token of the account.' },
        },
      },
    }
  }
  const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }]
  const denied = { 401: catalogueError('No valid token.'), 403: catalogueError('Role or scope.') }
  const ok = (description: string, schema: unknown) => ({ description, content: json(schema) })
  for (const [prefix, legacy] of [
    ['/api/v2/chat', false],
    ['/api/v2', true],
  ] as const) {
    const op = (name: string) => `${legacy ? 'legacy_' : ''}${name}`
    const read = { security: [{ bearer: ['read'] }], tags: ['oauth'] }
    const write = { security: [{ bearer: ['write'] }], tags: ['oauth'] }
    const missing = (what: string) => ({ 404: catalogueError(`No such ${what}.`), ...denied })
    paths[`${prefix}/oauth/clients`] = {
      get: {
        ...read,
        operationId: op('list_oauth_clients'),
        summary: 'OAuth clients of the account',
        responses: {
          200: ok('Ascending by id.', { type: 'array', items: ref('OAuthClient') }),
          ...denied,
        },
      },
      post: {
        ...write,
        operationId: op('create_oauth_client'),
        summary: 'Create a client; the response shows client_secret, once',
        requestBody: { required: true, content: json(CLIENT_BODY) },
        responses: {
          201: ok('Created.', ref('OAuthClient')),
          400: catalogueError('Invalid fields.'),
          ...denied,
        },
      },
    }
    paths[`${prefix}/oauth/clients/{id}`] = {
      get: {
        ...read,
        operationId: op('get_oauth_client'),
        summary: 'One client',
        parameters: idParam,
        responses: { 200: ok('OK', ref('OAuthClient')), ...missing('client') },
      },
      put: {
        ...write,
        operationId: op('update_oauth_client'),
        summary:
          'Update a client (PATCH alike); client_type confidential allows client_credentials',
        parameters: idParam,
        requestBody: { required: true, content: json(CLIENT_BODY) },
        responses: { 200: ok('OK', ref('OAuthClient')), ...missing('client') },
      },
      delete: {
        ...write,
        operationId: op('delete_oauth_client'),
        summary: 'Delete a client and revoke its tokens',
        parameters: idParam,
        responses: { 204: { description: 'Deleted.' }, ...missing('client') },
      },
    }
    paths[`${prefix}/oauth/tokens`] = {
      get: {
        ...read,
        operationId: op('list_oauth_tokens'),
        summary: 'Active OAuth tokens of the account',
        responses: {
          200: ok('Ascending by id.', { type: 'array', items: ref('OAuthToken') }),
          ...denied,
        },
      },
    }
    paths[`${prefix}/oauth/tokens/{id}`] = {
      get: {
        ...read,
        operationId: op('get_oauth_token'),
        summary: 'One active token',
        parameters: idParam,
        responses: { 200: ok('OK', ref('OAuthToken')), ...missing('active token') },
      },
      delete: {
        ...write,
        operationId: op('revoke_oauth_token'),
        summary: 'Revoke a token (its access and refresh token)',
        parameters: idParam,
        responses: { 204: { description: 'Revoked.' }, ...missing('active token') },
      },
    }
  }
  return paths
}
