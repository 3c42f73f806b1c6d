// oidc-provider ships no type declarations; the bench's peer uses a handful of its calls.
declare module 'oidc-provider' {
  const Provider: any;
  export default Provider;
}
