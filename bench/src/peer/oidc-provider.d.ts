// oidc-provider ships no type declarations; the bench's peer uses a handful of its calls.
declare module 'oidc-provider' {
  // biome-ignore lint/suspicious/noExplicitAny: an untyped third-party module, used only by the bench's peer.
  const Provider: any;
  export default Provider;
}
