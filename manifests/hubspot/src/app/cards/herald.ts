import { hubspot } from '@hubspot/ui-extensions';

import { HERALD_ORIGIN } from './config.ts';

/** How one channel stands for this contact right now. */
export type ChannelState =
  | 'free_text'
  | 'template_only'
  | 'opted_out'
  | 'unavailable';

export interface ChannelLine {
  channel: string;
  label: string;
  state: ChannelState | string;
  summary: string;
  closes_at: string | null;
}

export interface MessageLine {
  id: string;
  channel: string;
  channel_label: string;
  text: string;
  status: string;
  status_label: string;
  created_at: string;
}

/** The answer of `GET /hubspot/card` on Herald. */
export interface CardData {
  contact: { id: string; name: string; phone: string | null };
  setup: { needed: boolean; message: string };
  channels: ChannelLine[];
  messages: MessageLine[];
}

/** Where the card and the compose link come from. */
export interface RecordRef {
  portalId: number | string;
  contactId: number | string;
}

/** Who is looking at the card: Herald records the sender of a message by this. */
export interface UserRef {
  id?: number | string;
  email?: string;
}

/** A failure worth showing, as it is, to the person using the card. */
export class HeraldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeraldError';
  }
}

export const UNREACHABLE_MESSAGE =
  'Herald could not be reached. Check your connection and try again.';
export const UNEXPECTED_ANSWER_MESSAGE =
  'Herald sent an answer this card does not understand. Try again in a moment.';

export function cardUrl({ portalId, contactId }: RecordRef): string {
  return (
    `${HERALD_ORIGIN}/hubspot/card` +
    `?portalId=${encodeURIComponent(String(portalId))}` +
    `&contactId=${encodeURIComponent(String(contactId))}`
  );
}

/**
 * The compose link is bound to the user who asked for it. HubSpot may or may not append userId and
 * userEmail itself, so the card names them; Herald accepts a repeat that agrees.
 */
export function composeLinkUrl(ref: RecordRef, user: UserRef = {}): string {
  let url = `${cardUrl(ref)}&action=compose_link`;
  if (user.id !== undefined && user.id !== null && String(user.id) !== '') {
    url += `&userId=${encodeURIComponent(String(user.id))}`;
  }
  if (user.email) {
    url += `&userEmail=${encodeURIComponent(user.email)}`;
  }
  return url;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function genericHttpMessage(status: number): string {
  return `Herald answered with an error (HTTP ${status}). Try again in a moment.`;
}

/**
 * GET a Herald URL through HubSpot's signed proxy and return its JSON body.
 * Herald answers failures with `{"error": "a sentence"}`; that sentence becomes the error message.
 */
async function getJson(url: string): Promise<unknown> {
  let response: Response;
  try {
    response = await hubspot.fetch(url, { method: 'GET' });
  } catch {
    throw new HeraldError(UNREACHABLE_MESSAGE);
  }

  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }

  const ok = response.status >= 200 && response.status < 300;
  if (!ok) {
    const sentence =
      isRecord(body) && typeof body.error === 'string' ? body.error.trim() : '';
    throw new HeraldError(sentence || genericHttpMessage(response.status));
  }
  if (body === null) {
    throw new HeraldError(UNEXPECTED_ANSWER_MESSAGE);
  }
  return body;
}

function asString(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

function parseCardData(body: unknown): CardData {
  if (!isRecord(body) || !isRecord(body.contact)) {
    throw new HeraldError(UNEXPECTED_ANSWER_MESSAGE);
  }
  const contact = body.contact;
  const setup = isRecord(body.setup) ? body.setup : {};
  const channels = Array.isArray(body.channels) ? body.channels : [];
  const messages = Array.isArray(body.messages) ? body.messages : [];

  return {
    contact: {
      id: String(contact.id ?? ''),
      name: asString(contact.name),
      phone:
        typeof contact.phone === 'string' && contact.phone.trim() !== ''
          ? contact.phone
          : null,
    },
    setup: { needed: setup.needed === true, message: asString(setup.message) },
    channels: channels.filter(isRecord).map((line) => ({
      channel: asString(line.channel),
      label: asString(line.label, asString(line.channel)),
      state: asString(line.state, 'unavailable'),
      summary: asString(line.summary),
      closes_at: typeof line.closes_at === 'string' ? line.closes_at : null,
    })),
    messages: messages.filter(isRecord).map((line) => ({
      id: String(line.id ?? ''),
      channel: asString(line.channel),
      channel_label: asString(line.channel_label, asString(line.channel)),
      text: asString(line.text),
      status: asString(line.status),
      status_label: asString(line.status_label, asString(line.status)),
      created_at: asString(line.created_at),
    })),
  };
}

export async function loadCard(ref: RecordRef): Promise<CardData> {
  return parseCardData(await getJson(cardUrl(ref)));
}

/**
 * Ask Herald for a short-lived compose page URL for this contact.
 * Only a page on Herald's own origin is accepted: that is the only place the modal may show.
 */
export async function loadComposeUrl(ref: RecordRef, user: UserRef = {}): Promise<string> {
  const body = await getJson(composeLinkUrl(ref, user));
  const url = isRecord(body) ? body.compose_url : undefined;
  if (typeof url !== 'string' || !url.startsWith(`${HERALD_ORIGIN}/`)) {
    throw new HeraldError(UNEXPECTED_ANSWER_MESSAGE);
  }
  return url;
}
