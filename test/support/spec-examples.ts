// The specification's example payloads, copied verbatim, for the tests of the event contracts.

// Verbatim from the specification, §5.2: the `data` of com.platform.notification.send.request.v1.
export const specSendRequest = `{
  "requestId": "req-uuid-unique",
  "recipients": [
    {
      "userId": "user-uuid-123",
      "emailTo": "override_user@example.com",
      "phoneTo": "+79991234567",
      "deviceTokens": [
        {"token": "fcm_token_xyz", "platform": "android_fcm"},
        {"token": "apns_token_abc", "platform": "ios_apns"}
      ]
    }
  ],
  "templateName": "order_confirmation",
  "languageCode": "ru-RU",
  "payloadVariables": {
    "orderId": "ORD-2024-03-18-001",
    "userName": "Иван Петров",
    "totalAmount": "1500.00 RUB",
    "itemsListHtml": "<ul><li>Игра 'Супер Гонки' - 1000 RUB</li><li>DLC 'Новые Трассы' - 500 RUB</li></ul>",
    "orderDetailsUrl": "https://myplatform.com/orders/ORD-2024-03-18-001"
  },
  "deliveryOptions": {
    "channels": ["email", "push_fcm"],
    "priority": "high",
    "sendAtUtc": null,
    "ttlSeconds": 3600
  },
  "correlationId": "order-uuid-xyz"
}`;

// Verbatim from the specification, §5.1: the `data` of com.platform.notification.campaign.status.changed.v1.
export const specCampaignStatusChanged = `{
  "campaignId": "campaign-uuid-abc",
  "campaignName": "Весенняя распродажа - Анонс",
  "newStatus": "active",
  "previousStatus": "scheduled",
  "changeTimestamp": "2024-03-20T08:00:00Z",
  "updatedBy": "system"
}`;
