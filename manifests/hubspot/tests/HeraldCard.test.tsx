// The card is rendered with HubSpot's own testing renderer (@hubspot/ui-extensions/testing).
// The only thing replaced is the HubSpot runtime that hosts the card: the extension context and
// actions come from the renderer's mocks, and `hubspot.fetch` reaches the runtime's `self.hsFetch`,
// which each test provides with answers shaped like Herald's.
import {
  Alert,
  Button,
  EmptyState,
  Flex,
  LoadingSpinner,
  StatusTag,
  Tag,
  Text,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { HeraldCard } from '../src/app/cards/HeraldCard.tsx';
import { HERALD_ORIGIN } from '../src/app/cards/config.ts';
import type { CardData } from '../src/app/cards/herald.ts';

const PORTAL_ID = 987654;
const CONTACT_ID = 101;
const CARD_URL = `${HERALD_ORIGIN}/hubspot/card?portalId=${PORTAL_ID}&contactId=${CONTACT_ID}`;
const USER_ID = 4242;
const USER_EMAIL = 'agent+herald@example.com';
const COMPOSE_LINK_URL = `${CARD_URL}&action=compose_link&userId=${USER_ID}&userEmail=${encodeURIComponent(USER_EMAIL)}`;
const COMPOSE_URL = `${HERALD_ORIGIN}/hubspot/compose?t=eyJhbGciOiJIUzI1NiJ9.token.sig`;

function cardData(overrides: Partial<CardData> = {}): CardData {
  return {
    contact: { id: '101', name: 'Asha Patel', phone: '+447700900123' },
    setup: { needed: false, message: '' },
    channels: [
      {
        channel: 'whatsapp',
        label: 'WhatsApp',
        state: 'free_text',
        summary: 'Free text until Nov 22, 2026 at 3:05 PM UTC',
        closes_at: '2026-11-22T15:05:00+00:00',
      },
      {
        channel: 'sms',
        label: 'SMS',
        state: 'opted_out',
        summary: 'Replied STOP on Nov 20, 2026: nothing is sent until they reply START',
        closes_at: null,
      },
      {
        channel: 'viber',
        label: 'Viber',
        state: 'template_only',
        summary: 'No open session: choose an approved template',
        closes_at: null,
      },
    ],
    messages: [
      message('m_6', 'sms', 'SMS', 'Your parcel is out for delivery today.', 'delivered', 'Delivered', '2026-11-22T10:00:00+00:00'),
      message('m_5', 'whatsapp', 'WhatsApp', 'Your appointment is confirmed for Monday 9:00.', 'read', 'Read', '2026-11-21T16:30:00+00:00'),
      message('m_4', 'viber', 'Viber', 'Your password was changed.', 'failed', 'Failed: number not on Viber', '2026-11-20T09:15:00+00:00'),
      message('m_3', 'sms', 'SMS', 'We refunded order #123.', 'sent', 'Sent', '2026-11-19T08:00:00+00:00'),
      message('m_2', 'whatsapp', 'WhatsApp', 'Your renewal is due on Dec 1.', 'unknown', 'Outcome unknown', '2026-11-18T12:00:00+00:00'),
      message('m_1', 'sms', 'SMS', 'Welcome to Acme support.', 'delivered', 'Delivered', '2026-11-01T12:00:00+00:00'),
    ],
    ...overrides,
  };
}

function message(
  id: string,
  channel: string,
  channel_label: string,
  text: string,
  status: string,
  status_label: string,
  created_at: string
) {
  return { id, channel, channel_label, text, status, status_label, created_at };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

type Answer = Response | Promise<Response> | Error;

/**
 * Stand in for the HubSpot runtime's fetch proxy. `answers` is consulted per URL, in order;
 * the last answer for a URL repeats.
 */
function hubspotRuntime(answers: Record<string, Answer[]>) {
  const served: Record<string, number> = {};
  const hsFetch = vi.fn(async (url: string, _options?: unknown) => {
    const list = answers[url];
    if (!list) throw new Error(`unexpected hubspot.fetch to ${url}`);
    const index = Math.min(served[url] ?? 0, list.length - 1);
    served[url] = (served[url] ?? 0) + 1;
    const answer = list[index];
    if (answer instanceof Error) throw answer;
    return answer;
  });
  vi.stubGlobal('self', { hsFetch });
  return hsFetch;
}

function renderCard() {
  const renderer = createRenderer('crm.record.sidebar');
  const { mocks } = renderer;
  mocks.context.portal.id = PORTAL_ID;
  mocks.context.portal.timezone = 'UTC';
  mocks.context.crm.objectId = CONTACT_ID;
  mocks.context.user.locale = 'en-US';
  mocks.context.user.id = USER_ID;
  mocks.context.user.email = USER_EMAIL;
  renderer.render(<HeraldCard context={mocks.context} actions={mocks.actions} />);
  return renderer;
}

async function renderReadyCard() {
  const renderer = renderCard();
  await renderer.waitFor(() => expect(renderer.findByTestId(Button, 'herald-send')).toBeTruthy());
  return renderer;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('HeraldCard loading', () => {
  it('asks Herald for the card with the portal and contact from the extension context', async () => {
    let answer!: (response: Response) => void;
    const hsFetch = hubspotRuntime({
      [CARD_URL]: [new Promise<Response>((resolve) => (answer = resolve))],
    });

    const { find, maybeFind, waitFor } = renderCard();

    expect(find(LoadingSpinner).props.label).toBe('Loading messages…');
    // The request goes out from an effect right after the first render.
    await vi.waitFor(() => expect(hsFetch).toHaveBeenCalledTimes(1));
    expect(hsFetch).toHaveBeenCalledWith(CARD_URL, { method: 'GET' });
    expect(find(LoadingSpinner).props.label).toBe('Loading messages…');
    expect(maybeFind(Button)).toBeNull();

    answer(json(cardData()));
    await waitFor(() => expect(maybeFind(LoadingSpinner)).toBeNull());
  });

  it('shows the contact name and phone number', async () => {
    hubspotRuntime({ [CARD_URL]: [json(cardData())] });
    const { findByTestId, maybeFindByTestId } = await renderReadyCard();

    expect(findByTestId(Text, 'herald-contact').text).toBe('Asha Patel');
    expect(findByTestId(Text, 'herald-phone').text).toBe('+447700900123');
    expect(maybeFindByTestId(EmptyState, 'herald-no-phone')).toBeNull();
    expect(findByTestId(Button, 'herald-send').props.disabled).toBe(false);
  });
});

describe('HeraldCard channel lines', () => {
  it('shows one line per channel with its state and summary', async () => {
    hubspotRuntime({ [CARD_URL]: [json(cardData())] });
    const { findByTestId } = await renderReadyCard();

    const expected = [
      ['whatsapp', 'WhatsApp', 'Free text', 'success', 'Free text until Nov 22, 2026 at 3:05 PM UTC'],
      ['sms', 'SMS', 'Opted out', 'error', 'Replied STOP on Nov 20, 2026: nothing is sent until they reply START'],
      ['viber', 'Viber', 'Template only', 'warning', 'No open session: choose an approved template'],
    ] as const;
    for (const [channel, label, stateLabel, variant, summary] of expected) {
      const line = findByTestId(Flex, `herald-channel-${channel}`);
      const texts = line.findAll(Text).map((node) => node.text);
      expect(texts).toEqual([label, summary]);
      const tag = line.find(Tag);
      expect(tag.text).toBe(stateLabel);
      expect(tag.props.variant).toBe(variant);
    }
  });

  it('shows an unavailable channel as such, and a state it does not know as unavailable', async () => {
    const data = cardData({
      channels: [
        { channel: 'whatsapp', label: 'WhatsApp', state: 'unavailable', summary: 'No WhatsApp sender is set up', closes_at: null },
        { channel: 'rcs', label: 'RCS', state: 'something_new', summary: '', closes_at: null },
      ],
    });
    hubspotRuntime({ [CARD_URL]: [json(data)] });
    const { findByTestId } = await renderReadyCard();

    const whatsapp = findByTestId(Flex, 'herald-channel-whatsapp');
    expect(whatsapp.find(Tag).text).toBe('Unavailable');
    expect(whatsapp.find(Tag).props.variant).toBe('default');
    const rcs = findByTestId(Flex, 'herald-channel-rcs');
    expect(rcs.find(Tag).text).toBe('Unavailable');
    expect(rcs.findAll(Text).map((node) => node.text)).toEqual(['RCS']);
  });
});

describe('HeraldCard messages', () => {
  it('lists the five latest messages with their channel, time, status and text', async () => {
    hubspotRuntime({ [CARD_URL]: [json(cardData())] });
    const { findAll, findByTestId, maybeFindByTestId } = await renderReadyCard();

    expect(findAll(StatusTag)).toHaveLength(5);
    expect(maybeFindByTestId(Flex, 'herald-message-m_1')).toBeNull();

    const expected = [
      ['m_6', 'SMS · Nov 22, 2026, 10:00 AM', 'Delivered', 'success', 'Your parcel is out for delivery today.'],
      ['m_5', 'WhatsApp · Nov 21, 2026, 4:30 PM', 'Read', 'success', 'Your appointment is confirmed for Monday 9:00.'],
      ['m_4', 'Viber · Nov 20, 2026, 9:15 AM', 'Failed: number not on Viber', 'danger', 'Your password was changed.'],
      ['m_3', 'SMS · Nov 19, 2026, 8:00 AM', 'Sent', 'info', 'We refunded order #123.'],
      ['m_2', 'WhatsApp · Nov 18, 2026, 12:00 PM', 'Outcome unknown', 'warning', 'Your renewal is due on Dec 1.'],
    ] as const;
    for (const [id, heading, statusLabel, variant, text] of expected) {
      const row = findByTestId(Flex, `herald-message-${id}`);
      const [headingText, bodyText] = row.findAll(Text);
      // Intl may use a narrow no-break space before AM/PM; compare on plain spaces.
      expect(headingText.text?.replace(/\s/g, ' ')).toBe(heading);
      expect(bodyText.text).toBe(text);
      const status = row.find(StatusTag);
      expect(status.text).toBe(statusLabel);
      expect(status.props.variant).toBe(variant);
    }
  });

  it('says so when nothing was sent yet', async () => {
    hubspotRuntime({ [CARD_URL]: [json(cardData({ messages: [] }))] });
    const { findByTestId, maybeFind } = await renderReadyCard();

    expect(findByTestId(Text, 'herald-no-messages').text).toBe('No messages sent to this contact yet.');
    expect(maybeFind(StatusTag)).toBeNull();
  });
});

describe('HeraldCard states', () => {
  it('shows an empty state and no sending when the contact has no phone number', async () => {
    const data = cardData({ contact: { id: '101', name: 'Asha Patel', phone: null } });
    hubspotRuntime({ [CARD_URL]: [json(data)] });
    const { findByTestId, maybeFindByTestId } = await renderReadyCard();

    const empty = findByTestId(EmptyState, 'herald-no-phone');
    expect(empty.props.title).toBe('No phone number');
    expect(empty.find(Text).text).toContain("Asha Patel's record");
    expect(maybeFindByTestId(Text, 'herald-phone')).toBeNull();
    expect(findByTestId(Button, 'herald-send').props.disabled).toBe(true);
  });

  it('shows the setup message instead of the card when Herald needs setting up', async () => {
    const setupMessage = 'Connect this HubSpot account to a Herald workspace: flask --app app workspace create … --hubspot-portal-id 987654';
    const data = cardData({ setup: { needed: true, message: setupMessage }, channels: [], messages: [] });
    const hsFetch = hubspotRuntime({ [CARD_URL]: [json(data), json(cardData())] });
    const { find, findByTestId, maybeFindByTestId, waitFor } = renderCard();

    await waitFor(() => expect(findByTestId(Alert, 'herald-setup')).toBeTruthy());
    const alert = findByTestId(Alert, 'herald-setup');
    expect(alert.props.title).toBe('Herald needs setting up');
    expect(alert.props.variant).toBe('warning');
    expect(alert.text).toBe(setupMessage);
    expect(maybeFindByTestId(Button, 'herald-send')).toBeNull();

    find(Button, { testId: 'herald-recheck' }).trigger('onClick');
    await waitFor(() => expect(findByTestId(Button, 'herald-send')).toBeTruthy());
    expect(hsFetch).toHaveBeenCalledTimes(2);
  });

  it("shows Herald's error sentence with a retry that loads the card again", async () => {
    const sentence = 'This HubSpot account is not connected to Herald. Ask an administrator to install the app.';
    const hsFetch = hubspotRuntime({
      [CARD_URL]: [json({ error: sentence }, 403), json(cardData())],
    });
    const { findByTestId, maybeFindByTestId, waitFor } = renderCard();

    await waitFor(() => expect(findByTestId(Alert, 'herald-error')).toBeTruthy());
    const alert = findByTestId(Alert, 'herald-error');
    expect(alert.props.variant).toBe('danger');
    expect(alert.text).toBe(sentence);
    expect(maybeFindByTestId(Button, 'herald-send')).toBeNull();

    const retry = findByTestId(Button, 'herald-retry');
    expect(retry.text).toBe('Try again');
    retry.trigger('onClick');

    await waitFor(() => expect(findByTestId(Text, 'herald-contact').text).toBe('Asha Patel'));
    expect(hsFetch).toHaveBeenCalledTimes(2);
    expect(hsFetch).toHaveBeenLastCalledWith(CARD_URL, { method: 'GET' });
    expect(maybeFindByTestId(Alert, 'herald-error')).toBeNull();
  });

  it('shows a generic error when the answer carries no error sentence', async () => {
    hubspotRuntime({
      [CARD_URL]: [new Response('<html>Bad gateway</html>', { status: 502 })],
    });
    const { findByTestId, waitFor } = renderCard();

    await waitFor(() => expect(findByTestId(Alert, 'herald-error')).toBeTruthy());
    expect(findByTestId(Alert, 'herald-error').text).toBe(
      'Herald answered with an error (HTTP 502). Try again in a moment.'
    );
    expect(findByTestId(Button, 'herald-retry')).toBeTruthy();
  });

  it('shows a generic error when HubSpot cannot reach Herald at all', async () => {
    hubspotRuntime({ [CARD_URL]: [new Error('Request timed out')] });
    const { findByTestId, waitFor } = renderCard();

    await waitFor(() => expect(findByTestId(Alert, 'herald-error')).toBeTruthy());
    expect(findByTestId(Alert, 'herald-error').text).toBe(
      'Herald could not be reached. Check your connection and try again.'
    );
  });

  it('treats a successful answer that is not card data as an error', async () => {
    hubspotRuntime({ [CARD_URL]: [json({ hello: 'world' })] });
    const { findByTestId, waitFor } = renderCard();

    await waitFor(() => expect(findByTestId(Alert, 'herald-error')).toBeTruthy());
    expect(findByTestId(Alert, 'herald-error').text).toContain('does not understand');
  });
});

describe('HeraldCard Send message', () => {
  it('fetches a compose link and opens it in HubSpot’s iframe modal, then reloads on close', async () => {
    const hsFetch = hubspotRuntime({
      [CARD_URL]: [json(cardData()), json(cardData({ messages: [] }))],
      [COMPOSE_LINK_URL]: [json({ compose_url: COMPOSE_URL })],
    });
    const { findByTestId, mocks, waitFor } = await renderReadyCard();
    const send = findByTestId(Button, 'herald-send');
    expect(send.text).toBe('Send message');
    expect(send.props.variant).toBe('primary');

    send.trigger('onClick');

    await waitFor(() => expect(mocks.actions.openIframeModal.callCount).toBe(1));
    expect(hsFetch).toHaveBeenNthCalledWith(2, COMPOSE_LINK_URL, { method: 'GET' });
    const [payload, onClose] = mocks.actions.openIframeModal.calls[0];
    expect(payload).toEqual({ uri: COMPOSE_URL, height: 720, width: 640, title: 'Send a message' });
    expect(typeof onClose).toBe('function');

    // The message is sent and the modal closed: the card loads again and shows the new state.
    onClose!();
    await waitFor(() => expect(findByTestId(Text, 'herald-no-messages')).toBeTruthy());
    expect(hsFetch).toHaveBeenCalledTimes(3);
    expect(hsFetch).toHaveBeenLastCalledWith(CARD_URL, { method: 'GET' });
  });

  it("shows Herald's reason and opens nothing when the compose link is refused", async () => {
    const reason = 'Herald has no sender for this workspace yet: add one with flask --app app sender add.';
    hubspotRuntime({
      [CARD_URL]: [json(cardData())],
      [COMPOSE_LINK_URL]: [json({ error: reason }, 409)],
    });
    const { findByTestId, mocks, waitFor } = await renderReadyCard();

    findByTestId(Button, 'herald-send').trigger('onClick');

    await waitFor(() => expect(findByTestId(Alert, 'herald-compose-error')).toBeTruthy());
    expect(findByTestId(Alert, 'herald-compose-error').text).toBe(reason);
    expect(mocks.actions.openIframeModal.callCount).toBe(0);
    // The card stays usable.
    expect(findByTestId(Button, 'herald-send').props.disabled).toBe(false);
  });

  it('opens no page outside Herald’s origin', async () => {
    hubspotRuntime({
      [CARD_URL]: [json(cardData())],
      [COMPOSE_LINK_URL]: [json({ compose_url: 'https://elsewhere.example.net/hubspot/compose?t=x' })],
    });
    const { findByTestId, mocks, waitFor } = await renderReadyCard();

    findByTestId(Button, 'herald-send').trigger('onClick');

    await waitFor(() => expect(findByTestId(Alert, 'herald-compose-error')).toBeTruthy());
    expect(mocks.actions.openIframeModal.callCount).toBe(0);
  });
});
