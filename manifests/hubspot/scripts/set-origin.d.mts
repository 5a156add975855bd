export declare const APP_META: string;
export declare const CARD_CONFIG: string;
export declare class OriginError extends Error {}
export declare function normaliseOrigin(input: string): string;
export declare function setOrigin(projectDir: string, input: string): { from: string; to: string };
