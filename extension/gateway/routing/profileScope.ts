import { matchesAnyToolGlob } from '../../config/toolGlob';

/** A client profile as the registry holds it (`profiles.<name>`). */
export interface ProfileConfig {
  servers?: readonly string[];
  tools?: readonly string[];
}

/**
 * What one upstream endpoint may see: everything (the default endpoint, `profile` undefined) or
 * one profile's servers and tool globs. A profile that a reload removed serves nothing rather
 * than everything: its clients asked for a subset, never for more.
 */
export class ProfileScope {
  private constructor(
    readonly profile: string | undefined,
    private readonly config: ProfileConfig | undefined,
  ) {}

  static of(profile: string | undefined, profiles: Readonly<Record<string, ProfileConfig>> | undefined): ProfileScope {
    if (profile === undefined) return new ProfileScope(undefined, undefined);
    return new ProfileScope(profile, profiles?.[profile] ?? { servers: [] });
  }

  /** True when this endpoint serves `server` at all. */
  servesServer(server: string): boolean {
    return !this.config?.servers || this.config.servers.includes(server);
  }

  /** True when this endpoint lists and routes `server__tool` (`exposed`). */
  showsTool(server: string, exposed: string): boolean {
    if (!this.servesServer(server)) return false;
    return !this.config?.tools || matchesAnyToolGlob(exposed, this.config.tools);
  }

  /** The configured servers this endpoint serves, in registry order. */
  servers(all: readonly string[]): string[] {
    return all.filter((s) => this.servesServer(s));
  }
}
