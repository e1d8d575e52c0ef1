// prom-client's default metrics, one module each (what collectDefaultMetrics()
// calls in turn); the package ships no typings for them. Each registers its
// metrics in the registry given, their names prefixed.
declare module "prom-client/lib/metrics/*.js" {
  import type { Registry, RegistryContentType } from "prom-client";

  const register: (registry: Registry<RegistryContentType>, config: { prefix: string }) => void;
  export default register;
}
