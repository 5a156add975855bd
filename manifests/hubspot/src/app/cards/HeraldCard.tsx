import {
  Alert,
  Button,
  Divider,
  EmptyState,
  Flex,
  hubspot,
  LoadingSpinner,
  StatusTag,
  Tag,
  Text,
} from '@hubspot/ui-extensions';
import type {
  CrmContext,
  ExtensionPointApiActions,
} from '@hubspot/ui-extensions';
import { useCallback, useEffect, useRef, useState } from 'react';

import {
  HeraldError,
  loadCard,
  loadComposeUrl,
  UNREACHABLE_MESSAGE,
} from './herald.ts';
import type { CardData, ChannelLine, MessageLine, RecordRef } from './herald.ts';

export type HeraldCardActions = Pick<
  ExtensionPointApiActions<'crm.record.sidebar'>,
  'openIframeModal'
>;

export interface HeraldCardProps {
  context: CrmContext;
  actions: HeraldCardActions;
}

/** The compose page Herald serves inside HubSpot's modal. */
export const COMPOSE_MODAL = {
  title: 'Send a message',
  width: 640,
  height: 720,
} as const;

/** How many past messages the card lists. */
export const MESSAGES_SHOWN = 5;

hubspot.extend<'crm.record.sidebar'>(({ context, actions }) => (
  <HeraldCard context={context} actions={actions} />
));

type CardState =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; data: CardData };

function messageOf(error: unknown): string {
  return error instanceof HeraldError ? error.message : UNREACHABLE_MESSAGE;
}

export const HeraldCard = ({ context, actions }: HeraldCardProps) => {
  const portalId = context.portal.id;
  const contactId = context.crm.objectId;
  const [state, setState] = useState<CardState>({ kind: 'loading' });
  const [composing, setComposing] = useState(false);
  const [composeError, setComposeError] = useState<string | null>(null);
  // Only the latest load may write the state: an older answer arriving late is dropped.
  const latestLoad = useRef(0);

  const load = useCallback(() => {
    const ref: RecordRef = { portalId, contactId };
    const loadId = ++latestLoad.current;
    setState({ kind: 'loading' });
    loadCard(ref).then(
      (data) => {
        if (loadId === latestLoad.current) setState({ kind: 'ready', data });
      },
      (error: unknown) => {
        if (loadId === latestLoad.current)
          setState({ kind: 'error', message: messageOf(error) });
      }
    );
  }, [portalId, contactId]);

  useEffect(() => {
    load();
  }, [load]);

  const openCompose = useCallback(async () => {
    setComposing(true);
    setComposeError(null);
    try {
      const uri = await loadComposeUrl({ portalId, contactId }, { id: context.user?.id, email: context.user?.email });
      actions.openIframeModal({ uri, ...COMPOSE_MODAL }, () => load());
    } catch (error) {
      setComposeError(messageOf(error));
    } finally {
      setComposing(false);
    }
  }, [actions, portalId, contactId, load]);

  if (state.kind === 'loading') {
    return (
      <LoadingSpinner
        testId="herald-loading"
        label="Loading messages…"
        showLabel
        layout="centered"
      />
    );
  }

  if (state.kind === 'error') {
    return (
      <Flex direction="column" gap="sm">
        <Alert
          testId="herald-error"
          title="Herald could not load this contact"
          variant="danger"
        >
          {state.message}
        </Alert>
        <Button testId="herald-retry" variant="secondary" onClick={load}>
          Try again
        </Button>
      </Flex>
    );
  }

  const { data } = state;

  if (data.setup.needed) {
    return (
      <Flex direction="column" gap="sm">
        <Alert
          testId="herald-setup"
          title="Herald needs setting up"
          variant="warning"
        >
          {data.setup.message ||
            'Herald is not set up for this HubSpot account yet.'}
        </Alert>
        <Button testId="herald-recheck" variant="secondary" onClick={load}>
          Check again
        </Button>
      </Flex>
    );
  }

  const locale = context.user.locale;
  const timeZone = context.portal.timezone;

  return (
    <Flex direction="column" gap="sm">
      <ContactSummary data={data} />
      <Divider />
      <Text format={{ fontWeight: 'demibold' }}>Channels</Text>
      {data.channels.length === 0 ? (
        <Text testId="herald-no-channels" variant="microcopy">
          No channel is set up to reach this contact.
        </Text>
      ) : (
        data.channels.map((line) => (
          <ChannelRow key={line.channel} line={line} />
        ))
      )}
      <Divider />
      <Text format={{ fontWeight: 'demibold' }}>Recent messages</Text>
      {data.messages.length === 0 ? (
        <Text testId="herald-no-messages" variant="microcopy">
          No messages sent to this contact yet.
        </Text>
      ) : (
        data.messages
          .slice(0, MESSAGES_SHOWN)
          .map((message) => (
            <MessageRow
              key={message.id}
              message={message}
              locale={locale}
              timeZone={timeZone}
            />
          ))
      )}
      <Divider />
      {composeError !== null && (
        <Alert
          testId="herald-compose-error"
          title="Could not open the message window"
          variant="danger"
        >
          {composeError}
        </Alert>
      )}
      <Button
        testId="herald-send"
        variant="primary"
        disabled={composing || data.contact.phone === null}
        onClick={openCompose}
      >
        Send message
      </Button>
    </Flex>
  );
};

const ContactSummary = ({ data }: { data: CardData }) => {
  const { contact } = data;
  if (contact.phone === null) {
    return (
      <EmptyState
        testId="herald-no-phone"
        title="No phone number"
        layout="vertical"
        imageName="contacts"
        imageWidth={80}
      >
        <Text>
          Add a phone or mobile number to {contact.name || 'this contact'}'s
          record to message them on WhatsApp, SMS or Viber.
        </Text>
      </EmptyState>
    );
  }
  return (
    <Flex direction="column" gap="flush">
      <Text testId="herald-contact" format={{ fontWeight: 'bold' }}>
        {contact.name || 'This contact'}
      </Text>
      <Text testId="herald-phone">{contact.phone}</Text>
    </Flex>
  );
};

const CHANNEL_STATES: Record<
  string,
  { label: string; variant: 'success' | 'warning' | 'error' | 'default' }
> = {
  free_text: { label: 'Free text', variant: 'success' },
  template_only: { label: 'Template only', variant: 'warning' },
  opted_out: { label: 'Opted out', variant: 'error' },
  unavailable: { label: 'Unavailable', variant: 'default' },
};

const ChannelRow = ({ line }: { line: ChannelLine }) => {
  const state = CHANNEL_STATES[line.state] ?? CHANNEL_STATES.unavailable;
  return (
    <Flex
      testId={`herald-channel-${line.channel}`}
      direction="column"
      gap="extra-small"
    >
      <Flex direction="row" gap="sm" align="center" justify="between">
        <Text format={{ fontWeight: 'demibold' }}>{line.label}</Text>
        <Tag variant={state.variant}>{state.label}</Tag>
      </Flex>
      {line.summary !== '' && <Text variant="microcopy">{line.summary}</Text>}
    </Flex>
  );
};

type StatusVariant = 'success' | 'info' | 'danger' | 'warning' | 'default';

const STATUS_VARIANTS: Record<string, StatusVariant> = {
  delivered: 'success',
  read: 'success',
  queued: 'info',
  accepted: 'info',
  sending: 'info',
  sent: 'info',
  failed: 'danger',
  undelivered: 'danger',
  rejected: 'danger',
  unknown: 'warning',
};

export function formatSentAt(
  iso: string,
  locale: string | undefined,
  timeZone: string | undefined
): string {
  const when = new Date(iso);
  if (iso === '' || Number.isNaN(when.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = {
    dateStyle: 'medium',
    timeStyle: 'short',
  };
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone }).format(
      when
    );
  } catch {
    // An unknown locale or time zone from the host: fall back to the runtime's defaults.
    return new Intl.DateTimeFormat(undefined, options).format(when);
  }
}

const MessageRow = ({
  message,
  locale,
  timeZone,
}: {
  message: MessageLine;
  locale: string | undefined;
  timeZone: string | undefined;
}) => (
  <Flex testId={`herald-message-${message.id}`} direction="column" gap="flush">
    <Flex direction="row" gap="sm" align="center" justify="between">
      <Text variant="microcopy">
        {message.channel_label} · {formatSentAt(message.created_at, locale, timeZone)}
      </Text>
      <StatusTag variant={STATUS_VARIANTS[message.status] ?? 'default'}>
        {message.status_label}
      </StatusTag>
    </Flex>
    <Text truncate={{ maxWidth: 280, tooltipText: message.text }}>
      {message.text}
    </Text>
  </Flex>
);
